"""A leaderboard as a rich table in the terminal (``serbench leaderboard show``).

To fit a terminal, columns whose value is the same on every row (often the features,
the device and the clock) move from the table to a line under it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from serbench.leaderboard import table

_FOLDABLE = ("Features", "Device", "Clock")


def build_table(snapshot: Mapping[str, Any]) -> Table:
    """The rich :class:`~rich.table.Table` of a snapshot (or the unpublished state)."""
    summary = snapshot["summary"]
    heads = table.columns(summary, short=True)
    rows = [[c.text for c in table.row(g, summary)] for g in summary["groups"]]
    constant = [i for i, h in enumerate(heads)
                if h in _FOLDABLE and len(rows) > 1 and len({r[i] for r in rows}) == 1]
    same = "; ".join(f"{heads[i]}: {rows[0][i]}" for i in constant)
    caption = ([f"All rows: {same}."] if same else []) + table.footnotes(summary)
    out = Table(title=table.title(snapshot), caption="\n".join(caption),
                caption_justify="left", header_style="bold")
    keep = [i for i in range(len(heads)) if i not in constant]
    for i in keep:
        numeric = heads[i] not in table.TEXT_COLUMNS and heads[i] != "vs best"
        out.add_column(heads[i], justify="right" if numeric else "left")
    for group, cells in zip(summary["groups"], rows, strict=True):
        significant = bool((group.get("comparison") or {}).get("significant"))
        style = "bold green" if group["rank"] == 1 else ("red" if significant else None)
        out.add_row(*(cells[i] for i in keep), style=style)
    return out


def print_leaderboard(snapshot: Mapping[str, Any], console: Console | None = None) -> None:
    """Print the table, then any warnings (different splits, fingerprints, devices)."""
    if console is None:
        console = Console()
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console.width = 200  # piped to a file: keep rows on one line, not 80 columns
    console.print(build_table(snapshot))
    for warning in snapshot["summary"]["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
