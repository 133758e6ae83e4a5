"""Crash-safe file writes: a reader never sees half a file.

The content goes to a temporary file in the target's folder (a name starting with ``.``
and ending with ``.tmp``, which readers skip), is flushed to disk, and is then renamed
over the target: ``os.replace`` is atomic on POSIX and Windows. Run records, fold
results, feature-cache metadata, corpus manifests and leaderboard files all go through
here.

A temporary file's name carries its writer's pid and host
(``.<name>.<pid>-<host>.<random>.tmp``), so :func:`remove_stale_temps` can delete the
leftovers of a killed writer without touching a live writer's file.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

#: ``.<name>.<pid>-<host>.<random>.tmp``: mkstemp's random part has no dot
_TEMP_NAME = re.compile(r"^\..*\.(?P<pid>\d+)-(?P<host>[A-Za-z0-9-]+)\.[^.]+\.tmp$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def write_temp(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a complete, fsynced temporary sibling of ``path`` with ``write(tmp)``.

    The caller renames (or links) it into place and removes it when that fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-{_host()}.", suffix=".tmp",
                                dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600; these files are meant to be shared
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Replace ``path`` with what ``write(tmp)`` writes; the old content survives any crash."""
    tmp = write_temp(path, write)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends) atomically."""
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline="\n"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's live process
        return True
    return True


def remove_stale_temps(folder: Path, *, max_age_s: float = 3600.0) -> list[Path]:
    """Delete the temporary files in ``folder`` that no live writer will finish.

    A temporary file is stale when its writer (pid and host in its name) was on this host
    and is gone, or, for another host's or an unnamed writer's file, when it is older than
    ``max_age_s``. Returns the files removed.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    host = _host()
    for tmp in folder.glob(".*.tmp"):
        match = _TEMP_NAME.match(tmp.name)
        try:
            if match and match["host"] == host:
                stale = not _pid_alive(int(match["pid"]))
            else:
                stale = time.time() - tmp.stat().st_mtime > max_age_s
            if stale:
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:  # its writer renamed or removed it meanwhile
            continue
    return removed
