"""``serbench sweep``: plan a suite, run what is missing, fill and publish leaderboards.

    result = sweep(Path("suite.toml"), runs_dir=Path("runs"), leaderboards=Path("leaderboards"))

Runs already complete (by run id) are not run again, nor are runs whose leaderboard already
holds their entry (a shipped campaign on a fresh clone; retire the entry to run it again);
each finished run is added to its benchmark's leaderboard as soon as it finishes
(already-done runs too, which changes nothing when they are there). Scores are only ever
read from the runs' records or, for runs only on the board, from their entries.

Runs longer than a working session span sessions through their leaderboard folder: the
finished folds of a run left unfinished are shipped to ``<board>/partial/<run_id>/`` and
restored before the run resumes (:mod:`serbench.campaign.shipped`); commit them with the
leaderboards and a fresh clone goes on from there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serbench.campaign.outcome import CampaignFolder, Outcome
from serbench.campaign.plan import PlannedRun, plan, select
from serbench.campaign.shipped import discard, restore, ship
from serbench.campaign.suite import Suite, load_suite
from serbench.errors import ConfigError, SerbenchError

EXECUTORS = ("local", "slurm")


@dataclass
class SweepResult:
    """What a sweep found and did."""

    suite: Suite
    runs: list[PlannedRun]
    outcomes: list[Outcome] = field(default_factory=list)
    #: leaderboard -> published version
    published: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    #: run id -> why its finished run could not be added to its leaderboard
    not_added: dict[str, str] = field(default_factory=dict)
    #: run id -> why its finished folds could not be shipped (they stay in the runs folder)
    not_shipped: dict[str, str] = field(default_factory=dict)
    #: the sweep stopped itself at its ``time_limit_s`` (``interrupted`` is then True too)
    timed_out: bool = False

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def campaign_note(suite: Suite, runs: list[PlannedRun], only: tuple[str, ...] = ()) -> str:
    """The published version's note: which campaign, its matrix and budgets, and the part
    of it run when ``--only`` chose one."""
    budgets = sorted({f"{m.name}: max_epochs {m.max_epochs}" for m in suite.models
                      if m.max_epochs is not None})
    models = sorted({m.name + (f"/{v}" if v else "") for m in suite.models for v in m.variants})
    seeds = sorted({r.seed for r in runs})
    text = (f"campaign {suite.name!r} ({suite.path.name}): {len(runs)} run(s) of "
            f"{', '.join(models)}; seeds {', '.join(map(str, seeds))}")
    if budgets:
        text += "; reduced budgets: " + ", ".join(budgets)
    if only:
        text += f"; only the runs matching {', '.join(only)}"
    if suite.description:
        text += f". {suite.description}"
    return text


def sweep(suite_path: Path, *, runs_dir: Path, leaderboards: Path, executor: str = "local",
          workers: int = 1, publish: bool = False, dry_run: bool = False, wait: bool = True,
          console: Any = None, progress: bool = True, registry: Any = None,
          only: tuple[str, ...] = (), time_limit_s: float | None = None) -> SweepResult:
    """Plan ``suite_path`` and run what is not done yet; with ``only`` (label wildcards,
    ``ar_gru/*/s0``), just the runs that match. With ``time_limit_s`` the sweep stops
    itself that many seconds after it started, exactly as Ctrl-C stops it (running runs
    keep and ship their finished folds; the same call resumes).

    Raises:
        SuiteError: a bad suite (every bad entry listed), before anything runs.
        ConfigError: an unknown executor, Slurm commands missing for ``slurm``, or an
            ``only`` pattern that matches no run.
        SweepInterrupted: Ctrl-C or the time limit; the result so far is in it.
    """
    from serbench.plugins import get_registry

    deadline = _deadline(time_limit_s)
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor {executor!r}: choose one of {', '.join(EXECUTORS)}")
    if executor == "slurm" and not dry_run:
        from serbench.campaign.executors.slurm import require_sbatch

        require_sbatch()  # before the plan, which may take a while
    registry = registry or get_registry()
    suite = load_suite(suite_path, registry)
    runs_dir = Path(runs_dir).expanduser().resolve()
    # the whole suite is planned (and checked) even when only part of it runs
    runs = select(plan(suite, runs_dir, registry, Path(leaderboards)), list(only))
    result = SweepResult(suite=suite, runs=runs)
    if dry_run:
        return result
    boards = {r.run_id: r.leaderboard for r in runs}
    status = {r.run_id: r.status for r in runs}

    def add(outcome: Outcome) -> None:
        # a refused add (the board holds another record of this run id) is reported on
        # the run's row and blocks --publish; it must not stop the campaign
        problem = _add(outcome.run_id, boards, runs_dir, leaderboards)
        if problem:
            result.not_added[outcome.run_id] = problem
            outcome.message = f"not added to {boards[outcome.run_id]}: {problem}"
        else:  # on the board now: its shipped folds are history
            discard(Path(leaderboards), boards[outcome.run_id], outcome.run_id)

    for outcome in _already_done(runs, runs_dir, Path(leaderboards)):
        if status[outcome.run_id] == "done":  # an "on board" run has no record to add
            add(outcome)
        else:
            discard(Path(leaderboards), boards[outcome.run_id], outcome.run_id)
        result.outcomes.append(outcome)
    todo = [r for r in runs if not r.finished]
    folder = CampaignFolder(runs_dir, suite.name)
    if todo:
        from serbench.campaign.progress import CampaignProgress

        def ship_folds(run_id: str) -> None:
            # shipping is a copy for later sittings: a failure must not stop the campaign
            try:
                ship(runs_dir, Path(leaderboards), boards[run_id], run_id)
            except (OSError, SerbenchError) as exc:
                result.not_shipped[run_id] = str(exc)

        for run in todo:  # a killed sweep's folds first, then those of earlier sessions
            ship_folds(run.run_id)
            if restore(runs_dir, Path(leaderboards), run.leaderboard, run.run_id):
                run.status = "partial"
        with CampaignProgress(todo, console=console, enabled=progress) as bar:
            def finished(outcome: Outcome) -> None:
                if outcome.status == "done":
                    add(outcome)
                else:
                    ship_folds(outcome.run_id)
                bar.finished(outcome)

            ship_now = _every(SHIP_EVERY_S, lambda: [ship_folds(r.run_id) for r in todo])

            def poll() -> None:
                ship_now()
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeLimitReached(time_limit_s or 0.0)

            try:
                result.outcomes += _execute(executor, todo, folder, suite, workers, wait,
                                            bar, finished, poll)
            except KeyboardInterrupt as exc:
                result.outcomes += list(getattr(exc, "outcomes", []))
                result.interrupted = True
                result.timed_out = caused_by(exc, TimeLimitReached)
                raise SweepInterrupted(result) from exc
            finally:  # interrupted and still-queued runs keep their finished folds too
                for run in todo:
                    ship_folds(run.run_id)
    if (publish and not result.failed and not result.not_added
            and all(o.status != "queued" for o in result.outcomes)):
        from serbench.leaderboard.store import Leaderboard

        note = campaign_note(suite, runs, tuple(only))
        for name in dict.fromkeys(r.leaderboard for r in runs):
            result.published[name] = Leaderboard(leaderboards, name).publish(note=note)[0]
    return result


class TimeLimitReached(KeyboardInterrupt):
    """The sweep's time limit passed; handled as Ctrl-C. ``why`` names the cause in the
    stopped runs' outcomes (the local executor reads it)."""

    def __init__(self, limit_s: float):
        super().__init__(f"time limit of {limit_s:g} s reached")
        self.why = "the sweep's time limit"


def _deadline(time_limit_s: float | None) -> float | None:
    """The monotonic time at which the sweep stops itself (None: no limit)."""
    if time_limit_s is None:
        return None
    if not time_limit_s > 0:
        raise ConfigError(f"time limit {time_limit_s!r} s: give a positive duration")
    return time.monotonic() + time_limit_s


def caused_by(exc: BaseException | None, kind: type) -> bool:
    """Whether ``exc`` or an exception it was raised from (``raise ... from``) is a ``kind``."""
    while exc is not None:
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__
    return False


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep; ``result`` holds what finished."""

    def __init__(self, result: SweepResult):
        super().__init__("sweep interrupted")
        self.result = result


def _execute(executor: str, todo: list[PlannedRun], folder: CampaignFolder, suite: Suite,
             workers: int, wait: bool, bar: Any, finished: Any, poll: Any) -> list[Outcome]:
    if executor == "local":
        from serbench.campaign.executors.local import run_local

        return run_local(todo, folder, workers=workers, on_start=bar.started,
                         on_finish=finished, on_poll=poll)
    from serbench.campaign.executors.slurm import run_slurm

    return run_slurm(todo, folder, campaign=suite.name, wait=wait, on_start=bar.started,
                     on_finish=finished, on_message=bar.message, on_poll=poll)


#: seconds between two shippings of the folds that running runs have finished
SHIP_EVERY_S = 30.0


def _every(seconds: float, action: Any) -> Any:
    """A poll callback doing ``action()`` at its first call and then at most every
    ``seconds``. The sweep ships its runs' finished folds so, every :data:`SHIP_EVERY_S`:
    a sweep killed outright (SIGKILL, a machine that goes away) has then shipped all but
    the last half minute's folds."""
    last: list[float] = []

    def poll() -> None:
        if last and time.monotonic() - last[0] < seconds:
            return
        last[:] = [time.monotonic()]
        action()

    return poll


def _already_done(runs: list[PlannedRun], runs_dir: Path, leaderboards: Path
                  ) -> list[Outcome]:
    """Outcomes of the finished runs: read from their records, or from their leaderboard
    entries when only the board holds them."""
    from serbench.campaign.outcome import read_board_outcome, read_outcome

    out = []
    for run in runs:
        if run.status == "done":
            outcome = read_outcome(runs_dir, run.run_id, run.label, log=None)
        elif run.status == "on board":
            outcome = read_board_outcome(leaderboards, run.leaderboard, run.run_id, run.label)
        else:
            continue
        outcome.status = "already done"
        out.append(outcome)
    return out


def _add(run_id: str, boards: dict[str, str], runs_dir: Path, leaderboards: Path) -> str:
    """Add the finished run to its leaderboard; returns why not ("" when added)."""
    from serbench.errors import ConfigError, SchemaError
    from serbench.leaderboard.store import add_runs

    try:
        add_runs([runs_dir / run_id / "record.json"], leaderboards, benchmark=boards[run_id])
    except (ConfigError, SchemaError) as exc:
        return str(exc)
    return ""
