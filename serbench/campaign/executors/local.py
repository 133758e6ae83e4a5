"""The local executor: ``--workers N`` ``serbench run`` processes on this machine.

Each run is its own process (a crash is contained, a failure does not stop the others)
started as ``python -m serbench run --config <experiment file> --threads T`` with
``T = cores // N`` torch threads (``OMP_NUM_THREADS`` too), so N workers do not
oversubscribe the cores; the record stores the count. Output goes to the run's log.
On Ctrl-C (or the sweep's time limit) every worker gets SIGINT (a run keeps its finished
folds), then SIGKILL after a grace period; the same ``sweep`` resumes them. Workers hear
SIGINT even where the sweep runs in the background with SIGINT ignored
(``CAMPAIGN_WORKER_ENV``, ``serbench.cli.main``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from serbench.campaign.outcome import CampaignFolder, Outcome, read_outcome
from serbench.campaign.plan import PlannedRun
from serbench.cli import CAMPAIGN_WORKER_ENV

#: seconds a worker has to stop after SIGINT before it is killed
GRACE_S = 20.0


class CampaignInterrupted(KeyboardInterrupt):
    """Ctrl-C during a campaign; ``outcomes`` holds what finished (and what was stopped)."""

    def __init__(self, outcomes: list[Outcome]):
        super().__init__("campaign interrupted")
        self.outcomes = outcomes


def cores() -> int:
    """CPUs this process may use (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """``cores // workers``, at least 1."""
    return max(1, cores() // max(1, workers))


def run_command(config: Path, threads: int, resume: bool) -> list[str]:
    """The ``serbench run`` command line of one run."""
    command = [sys.executable, "-m", "serbench", "run", "--config", str(config), "--quiet",
               "--threads", str(threads)]
    return command + (["--resume"] if resume else [])


@dataclass
class _Active:
    run: PlannedRun
    process: subprocess.Popen
    log: Path
    started: float


def run_local(runs: Sequence[PlannedRun], folder: CampaignFolder, *, workers: int = 1,
              on_start: Callable[[PlannedRun], None] = lambda run: None,
              on_finish: Callable[[Outcome], None] = lambda outcome: None,
              on_poll: Callable[[], None] = lambda: None,
              poll_s: float = 0.2) -> list[Outcome]:
    """Run ``runs`` with at most ``workers`` processes at a time; outcomes in finish order.
    ``on_poll`` is called every ``poll_s`` while runs are going (the sweep ships their
    finished folds from there).

    Raises:
        CampaignInterrupted: Ctrl-C (or a KeyboardInterrupt from ``on_poll``: the sweep's
            time limit); the workers were stopped and their outcomes are in it.
    """
    threads = threads_per_worker(workers)
    queue, active, outcomes = list(runs), [], []
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           CAMPAIGN_WORKER_ENV: "1"}
    try:
        while queue or active:
            while queue and len(active) < workers:
                run = queue.pop(0)
                config = folder.write_config(run.run_id, run.settings)
                log = folder.log_path(run.run_id)
                log.parent.mkdir(parents=True, exist_ok=True)
                with log.open("w", encoding="utf-8") as handle:
                    process = subprocess.Popen(
                        run_command(config, threads, run.status == "partial"), env=env,
                        stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                        start_new_session=True)  # Ctrl-C reaches workers only through us
                active.append(_Active(run, process, log, time.monotonic()))
                on_start(run)
            for item in [a for a in active if a.process.poll() is not None]:
                active.remove(item)
                code = item.process.returncode
                outcome = read_outcome(folder.runs_dir, item.run.run_id, item.run.label,
                                       log=item.log, seconds=time.monotonic() - item.started,
                                       failed_message=f"exit status {code}")
                outcomes.append(outcome)
                on_finish(outcome)
            on_poll()
            time.sleep(poll_s)
    except KeyboardInterrupt as exc:
        outcomes += _stop(active, folder, getattr(exc, "why", "Ctrl-C or SIGTERM"))
        raise CampaignInterrupted(outcomes) from exc
    return outcomes


def _stop(active: list[_Active], folder: CampaignFolder, why: str) -> list[Outcome]:
    """SIGINT every worker's process group, wait up to :data:`GRACE_S`, then SIGKILL;
    ``why`` (e.g. "Ctrl-C or SIGTERM") goes into the stopped runs' outcomes."""
    for item in active:
        try:
            os.killpg(item.process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + GRACE_S
    for item in active:
        try:
            item.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(item.process.pid, signal.SIGKILL)
            item.process.wait()
    stopped = []
    for item in active:
        outcome = read_outcome(folder.runs_dir, item.run.run_id, item.run.label, log=item.log,
                               seconds=time.monotonic() - item.started)
        if outcome.status != "done":
            outcome.status, outcome.message = "interrupted", f"stopped ({why}); sweep resumes it"
        stopped.append(outcome)
    return stopped
