"""Crash-safe file writes: a reader never sees half a file.

The content goes to a temporary file in the target's folder (a name starting with ``.``
and ending with ``.tmp``, which readers skip), is flushed to disk, and is then renamed
over the target: ``os.replace`` is atomic on POSIX and Windows. Run records, fold
results, feature-cache metadata, corpus manifests and leaderboard files all go through
here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_temp(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a complete, fsynced temporary sibling of ``path`` with ``write(tmp)``.

    The caller renames (or links) it into place and removes it when that fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
