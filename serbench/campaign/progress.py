"""Progress across a whole campaign (rich): runs finished of runs to do, what is running."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape

from serbench.campaign.outcome import Outcome
from serbench.campaign.plan import PlannedRun


class CampaignProgress:
    """A rich progress bar over a campaign's runs; silent when not ``enabled``."""

    def __init__(self, runs: Sequence[PlannedRun], *, console: Any = None, enabled: bool = True):
        self.total, self.running, self.failed = len(runs), set[str](), 0
        self.console, self.enabled = console, enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> CampaignProgress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(),
                                      console=self.console)
            self._progress.__enter__()
            self._task = self._progress.add_task("campaign", total=self.total)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def _describe(self) -> None:
        if self._progress is None:
            return
        running = ", ".join(sorted(self.running)[:3]) + (" ..." if len(self.running) > 3 else "")
        failed = f" [red]{self.failed} failed[/]" if self.failed else ""
        self._progress.update(self._task, description=f"campaign{failed} "
                              f"[dim]{escape(running)}[/]")

    def started(self, run: PlannedRun) -> None:
        self.running.add(run.label)
        self._describe()

    def finished(self, outcome: Outcome) -> None:
        self.running.discard(outcome.label)
        self.failed += outcome.status == "failed"
        if self._progress is not None:
            self._progress.advance(self._task)
            if outcome.status == "failed":
                self._progress.console.print(f"[red]failed[/]: {escape(outcome.label)} "
                                             f"({escape(str(outcome.log))})")
        self._describe()

    def message(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(escape(text))
        elif self.console is not None:
            self.console.print(escape(text))
