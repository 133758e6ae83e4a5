"""A leaderboard as a rich table in the terminal (``serbench leaderboard show``).

To fit a terminal, columns whose value is the same on every row (often the device and
the clock) move from the table to a line under it, rows that share a name get a short
tag (``[a]``) whose differing fields are listed in full under the table, and when the
table is still wider than the console, the least telling columns are left out (the
caption names them) rather than truncating scores to ``…`` or wrapping every row.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from serbench.leaderboard import table

#: Left out first when the console is too narrow (the rank, name and primary score stay).
_DROP_ORDER = ("Peak MB", "utt/s", "±seeds", "s/epoch", "Device", "Clock", "Seeds", "Params",
               "ms/utt", "vs best", "Epochs")


def _drop_order(heads: list[str]) -> list[str]:
    """Columns in the order they are left out: :data:`_DROP_ORDER`, then secondary
    metrics (last first), then features and the pooled score."""
    fixed = [h for h in _DROP_ORDER if h in heads]
    metrics = [h for h in heads[4:] if h.endswith(" %") and h not in fixed
               and not h.startswith("Paper ")]
    pooled = [h for h in heads if "pooled" in h]
    paper = [h for h in heads if h.startswith("Paper ")]
    return fixed + metrics[::-1] + ["Features"] + pooled + paper


def _make(snapshot: Mapping[str, Any], lay: table.Layout, keep: list[int],
          caption: list[str]) -> Table:
    summary = snapshot["summary"]
    out = Table(title=table.title(snapshot), caption=Text("\n".join(caption)),
                caption_justify="left", header_style="bold")
    for i in keep:
        head = lay.heads[i]
        numeric = head not in table.TEXT_COLUMNS and head != "vs best"
        # scores and numbers never wrap or shrink to "…"; the model name may wrap
        out.add_column(head, justify="right" if numeric else "left",
                       no_wrap=head != "Model", overflow="fold")
    for group, cells in zip(summary["groups"], lay.rows, strict=True):
        significant = bool((group.get("comparison") or {}).get("significant"))
        style = "bold green" if group["rank"] == 1 else ("red" if significant else None)
        out.add_row(*(Text(cells[i].text) for i in keep), style=style)  # "[a]" is no markup
    return out


def build_table(snapshot: Mapping[str, Any], width: int | None = None) -> Table:
    """The rich :class:`~rich.table.Table` of a snapshot (or the unpublished state),
    narrowed to ``width`` columns when given."""
    summary = snapshot["summary"]
    lay = table.layout(summary, short=True)
    notes = [line for line in (table.constant_line(lay.constant),) if line]
    notes += table.legend(summary) + table.footnotes(summary)
    keep = list(range(len(lay.heads)))
    dropped: list[str] = []
    console = Console(width=10_000)  # measures unclamped (a narrow one caps at its width)
    for head in [None, *_drop_order(lay.heads)]:
        if head is not None:
            keep.remove(lay.heads.index(head))
            dropped.append(head)
        caption = ([f"Left out at this width: {', '.join(dropped)} (widen the terminal or "
                    "use --format markdown)."] if dropped else []) + notes
        out = _make(snapshot, lay, keep, caption)
        if width is None or Measurement.get(console, console.options, out).maximum <= width:
            break
    return out


def print_leaderboard(snapshot: Mapping[str, Any], console: Console | None = None) -> None:
    """Print the table, then any warnings (different splits, fingerprints, devices)."""
    if console is None:
        console = Console()
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console.width = 200  # piped to a file: keep rows on one line, not 80 columns
    console.print(build_table(snapshot, console.width))
    for warning in snapshot["summary"]["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
