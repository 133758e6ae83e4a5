"""What ``sweep`` prints: the plan (``--dry-run``), progress, and the final summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from serbench.campaign.outcome import Outcome
from serbench.campaign.plan import PlannedRun


def duration(seconds: float | None) -> str:
    """``1h02m``, ``3m05s``, ``12s`` or ``?``."""
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def plan_table(runs: Sequence[PlannedRun], title: str) -> Table:
    """One row per run: leaderboard, run, id, status, estimated time."""
    table = Table(title=title)
    for column in ("leaderboard", "run", "run id", "status", "estimate"):
        table.add_column(column)
    for run in runs:
        status = {"done": "already done", "on board": "on the leaderboard",
                  "partial": "to do (resume)"}.get(run.status, "to do")
        if run.shipped and not run.finished:
            status += f"; {len(run.shipped)} fold(s) shipped"
        table.add_row(run.leaderboard, run.label, run.run_id, status,
                      "-" if run.finished else duration(run.estimate_s))
    return table


def plan_totals(runs: Sequence[PlannedRun], workers: int = 1) -> str:
    """``N to do, M already done; estimated ...`` (from past runs where there are any)."""
    todo = [r for r in runs if not r.finished]
    known = [r.estimate_s for r in todo if r.estimate_s is not None]
    on_board = sum(r.status == "on board" for r in runs)
    text = f"{len(todo)} run(s) to do, {len(runs) - len(todo)} already done"
    if on_board:
        text += f" ({on_board} of them only on the leaderboard)"
    if known:
        total = sum(known)
        text += (f"; estimated {duration(total)} of run time for the {len(known)} with a past "
                 f"run or finished folds of the same configuration (about "
                 f"{duration(total / max(1, workers))} with {workers} worker(s))")
        if len(known) < len(todo):
            text += f"; {len(todo) - len(known)} without a past run (no estimate)"
    elif todo:
        text += "; no past run of these configurations to estimate their time from"
    return text


def summary_table(outcomes: Sequence[Outcome], title: str) -> Table:
    """Status, pooled UA, time and (for failures) the log of each run; a finished run
    that could not be added to its leaderboard says why."""
    table = Table(title=title)
    for column in ("run", "status", "UA % (pooled)", "time", "log / message"):
        table.add_column(column)
    for o in outcomes:
        style = {"failed": "red", "interrupted": "yellow"}.get(o.status)
        detail = o.message if o.status in ("done", "already done") else \
            f"{o.log or ''} {o.message}".strip()
        table.add_row(o.label, f"[{style}]{o.status}[/]" if style else o.status,
                      "-" if o.ua is None else f"{100 * o.ua:.1f}",
                      "-" if o.seconds is None else duration(o.seconds),
                      detail)
    return table


def counts(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Status -> number of runs."""
    out: dict[str, int] = {}
    for o in outcomes:
        out[o.status] = out.get(o.status, 0) + 1
    return out
