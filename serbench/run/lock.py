"""One process per run folder: a lock held while a process runs (or resumes) a run.

The lock is ``runs/<run_id>/.lock`` (a ``filelock`` lock: the operating system frees it
when its process dies, so a crash never leaves a run locked), beside ``.owner``, a JSON
note of the holder's pid, host, start time and command. A second process asking for
the same run is refused at once, naming the holder, instead of training every fold
again beside it. ``--force`` empties the folder but keeps these two files
(:meth:`serbench.run.folder.RunFolder.clear`); a folder the run never wrote to (a run
refused after taking the lock) is removed again on release.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from serbench.atomic import write_text_atomic
from serbench.errors import ConfigError

LOCK_NAME, OWNER_NAME = ".lock", ".owner"


class RunAlreadyRunning(ConfigError):
    """Another process holds the run's lock."""


def _holder(owner: Path) -> str:
    try:
        note = json.loads(owner.read_text(encoding="utf-8"))
        return (f"pid {note['pid']} on {note['host']}, since {note['started']}: "
                f"{' '.join(note.get('command') or [])}".rstrip(": "))
    except (OSError, ValueError, KeyError, TypeError):  # the holder is writing it right now
        return "pid unknown: its process is starting"


@contextmanager
def run_lock(run_dir: Path, command: Sequence[str] = ()) -> Iterator[None]:
    """Hold the lock of the run folder ``run_dir`` for the ``with`` block.

    Raises:
        RunAlreadyRunning: another process holds it ("already running (pid ...)").
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    owner = run_dir / OWNER_NAME
    lock = FileLock(str(run_dir / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise RunAlreadyRunning(
            f"run {run_dir.name} is already running ({_holder(owner)}). Wait for that "
            f"process to finish, or stop it; its finished folds stay in {run_dir}."
        ) from None
    try:
        write_text_atomic(owner, json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": list(command)}) + "\n")
        yield
    finally:
        owner.unlink(missing_ok=True)
        if not (run_dir / "config.json").exists():  # nothing was run: leave no empty folder
            (run_dir / LOCK_NAME).unlink(missing_ok=True)
            with suppress(OSError):  # not empty: something else is in it, keep it
                run_dir.rmdir()
        lock.release()
