"""What became of one run of a campaign, and the campaign's folder on disk.

::

    <runs>/campaigns/<campaign>/
      configs/<run_id>.json   the run's experiment file (``serbench run --config``)
      logs/<run_id>.log       the local executor's log of the run
      slurm/                  submitit's job files and per-job logs
      slurm_jobs.json         run id -> Slurm job id of the last submission
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serbench.run.folder import RunFolder, atomic_write_json

#: statuses of an :class:`Outcome`
STATUSES = ("done", "already done", "failed", "interrupted", "queued")


@dataclass
class Outcome:
    """One run's result as read back from its folder (never computed here)."""

    run_id: str
    label: str
    status: str
    ua: float | None = None
    log: Path | None = None
    seconds: float | None = None
    message: str = ""


class CampaignFolder:
    """The files a campaign keeps beside the runs it starts."""

    def __init__(self, runs_dir: Path, name: str):
        self.runs_dir = Path(runs_dir)
        self.root = self.runs_dir / "campaigns" / name

    def config_path(self, run_id: str) -> Path:
        return self.root / "configs" / f"{run_id}.json"

    def log_path(self, run_id: str) -> Path:
        return self.root / "logs" / f"{run_id}.log"

    @property
    def slurm_dir(self) -> Path:
        return self.root / "slurm"

    @property
    def jobs_path(self) -> Path:
        return self.root / "slurm_jobs.json"

    def write_config(self, run_id: str, settings: dict[str, Any]) -> Path:
        """The run's experiment file, with the runs folder so the run lands beside it."""
        path = self.config_path(run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, {**settings, "runs_dir": str(self.runs_dir.resolve())})
        return path

    def read_jobs(self) -> dict[str, Any]:
        if not self.jobs_path.is_file():
            return {}
        return json.loads(self.jobs_path.read_text(encoding="utf-8"))

    def write_jobs(self, jobs: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.jobs_path, jobs)


def read_outcome(runs_dir: Path, run_id: str, label: str, *, log: Path | None,
                 seconds: float | None = None, failed_message: str = "") -> Outcome:
    """``done`` with the record's pooled UA when ``record.json`` exists, else ``failed``."""
    folder = RunFolder(Path(runs_dir) / run_id)
    if folder.is_complete():
        record = folder.read_record()
        ua = (record.get("aggregate") or {}).get("pooled", {}).get("ua")
        return Outcome(run_id, label, "done", ua=ua, log=log, seconds=seconds)
    return Outcome(run_id, label, "failed", log=log, seconds=seconds,
                   message=failed_message or "no record.json was written; see the log")


def read_board_outcome(leaderboards: Path, board: str, run_id: str, label: str) -> Outcome:
    """``done`` with the pooled UA of the run's entry on ``board`` (a run whose folder is
    not here, e.g. a campaign shipped with its leaderboards)."""
    from serbench.leaderboard.store import Leaderboard

    store = Leaderboard(leaderboards, board)
    entry = store.read_entry(store.entries_dir / f"{run_id}.json")
    ua = (entry.get("aggregate") or {}).get("pooled", {}).get("ua")
    return Outcome(run_id, label, "done", ua=ua,
                   message=f"on the leaderboard {board} (no run folder here; retire its entry "
                           "to run it again)")
