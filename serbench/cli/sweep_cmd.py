"""``serbench sweep SUITE``: a benchmark campaign from a suite file (docs/sweeps.md)."""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path
from typing import Any

import click

#: exit status of a sweep stopped by --time-limit (as coreutils' `timeout` exits)
TIME_LIMIT_EXIT = 124


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a scheduler's time limit), handled as Ctrl-C."""

    why = "SIGTERM"


class Duration(click.ParamType):
    """A wall time: ``90m``, ``2h``, ``1h30m``, ``45s``, ``1.5h``; a bare number is minutes
    (as Slurm's ``--time``). Converts to seconds."""

    name = "duration"
    _NUMBER = r"\d+(?:\.\d+)?"
    _PART = re.compile(rf"({_NUMBER})([hms])")
    _UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, (int, float)):
            seconds = float(value)
        else:
            text = str(value).strip().lower().replace(" ", "")
            if re.fullmatch(self._NUMBER, text):
                seconds = float(text) * 60.0
            elif text and self._PART.sub("", text) == "":
                seconds = sum(float(n) * self._UNIT[u] for n, u in self._PART.findall(text))
            else:
                self.fail(f"{value!r} is not a duration; write e.g. 90m, 2h, 1h30m or 45s "
                          "(a bare number is minutes)", param, ctx)
        if seconds <= 0:
            self.fail(f"{value!r}: give a positive duration", param, ctx)
        return seconds


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    # without this a killed sweep leaves its workers (own sessions) running unwatched
    raise _Terminated(f"signal {signum}")


@click.command("sweep")
@click.argument("suite", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--executor", type=click.Choice(["local", "slurm"]), default="local",
              show_default=True, help="Where runs execute: worker processes here, or Slurm jobs.")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Local executor: runs at a time (each with cores/workers torch threads).")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Root of run folders (default: SERBENCH_RUNS or ./runs); with Slurm it "
                   "must be shared with the compute nodes.")
@click.option("--leaderboard-root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("leaderboards"), envvar="SERBENCH_LEADERBOARDS",
              show_default=True, help="Where each benchmark's leaderboard is.")
@click.option("--publish", is_flag=True,
              help="When every run succeeded, publish a new version of each leaderboard "
                   "with a note naming the campaign.")
@click.option("--dry-run", is_flag=True,
              help="Print the plan (to do / already done, estimated time) and run nothing.")
@click.option("--no-wait", is_flag=True,
              help="Slurm: submit and return; a later sweep collects the results.")
@click.option("--only", multiple=True, metavar="PATTERN",
              help="Run only the runs whose label (model/variant/corpus/s<seed>, as "
                   "--dry-run shows) matches; shell wildcards, repeatable: "
                   "--only 'a_lstm/*' --only '*/s0'.")
@click.option("--time-limit", type=Duration(), metavar="DURATION",
              help="Stop cleanly after this much wall time (90m, 2h, 1h30m; a bare number "
                   "is minutes), as Ctrl-C does: running runs keep and ship their finished "
                   f"folds and the same command resumes. Exit status {TIME_LIMIT_EXIT}. "
                   "Slurm jobs go on; the next sweep collects them.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(suite: Path, executor: str, workers: int, runs_dir: Path | None,
            leaderboard_root: Path, publish: bool, dry_run: bool, no_wait: bool,
            only: tuple[str, ...], time_limit: float | None, quiet: bool) -> None:
    """Run every model x variant x feature x seed of SUITE's benchmarks that is not done yet,
    adding each finished run to its benchmark's leaderboard.

    Runs already complete (same run id) are skipped, so the same command resumes an
    interrupted campaign; one failing run does not stop the others.
    """
    from serbench import paths
    from serbench.campaign import report
    from serbench.campaign.sweep import SweepInterrupted, caused_by, sweep
    from serbench.cli.console import make_console

    console = make_console(stderr=True)
    out = make_console()
    root = runs_dir or paths.runs_dir()
    previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        result = sweep(suite, runs_dir=root, leaderboards=leaderboard_root, executor=executor,
                       workers=workers, publish=publish, dry_run=dry_run, wait=not no_wait,
                       console=console, progress=not quiet, only=only, time_limit_s=time_limit)
    except SweepInterrupted as exc:
        timed_out = exc.result.timed_out
        out.print(report.summary_table(
            exc.result.outcomes, "campaign stopped at its time limit" if timed_out
            else "campaign interrupted"))
        _warn_not_shipped(exc.result)
        what = (f"Stopped at the time limit ({report.duration(time_limit)})" if timed_out
                else "Interrupted")
        click.secho(f"{what}: finished runs and the finished folds of unfinished ones are "
                    "kept; run the same command to resume (Slurm jobs keep running and are "
                    "collected then).", fg="yellow", err=True)
        if timed_out:
            sys.exit(TIME_LIMIT_EXIT)
        sys.exit(128 + (signal.SIGTERM if caused_by(exc, _Terminated) else signal.SIGINT))
    finally:
        signal.signal(signal.SIGTERM, previous)
    if dry_run:
        out.print(report.plan_table(result.runs, f"plan of campaign {result.suite.name}"))
        out.print(report.plan_totals(result.runs, workers if executor == "local" else 1))
        return
    title = f"campaign {result.suite.name}: " + ", ".join(
        f"{n} {status}" for status, n in report.counts(result.outcomes).items())
    out.print(report.summary_table(result.outcomes, title))
    boards = sorted({r.leaderboard for r in result.runs})
    out.print(f"leaderboards: {', '.join(boards)} (under {leaderboard_root}; "
              "`serbench leaderboard show NAME`)")
    for name, version in result.published.items():
        out.print(f"published {name} v{version}")
    _warn_not_shipped(result)
    for run_id, problem in result.not_added.items():
        click.secho(f"run {run_id} finished but was not added to its leaderboard: {problem}",
                    fg="red", err=True)
    if publish and not result.published:
        click.secho("not published: some runs failed, are still queued or were not added "
                    "to their leaderboard", fg="yellow", err=True)
    if result.failed or result.not_added:
        sys.exit(1)


def _warn_not_shipped(result: Any) -> None:
    for run_id, problem in result.not_shipped.items():
        click.secho(f"finished folds of run {run_id} were not shipped to its leaderboard "
                    f"folder (they are kept in the runs folder): {problem}", fg="yellow",
                    err=True)
