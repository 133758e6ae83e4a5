"""Crash-safe file writes: a reader never sees half a leaderboard file.

Every file is written to a temporary file in the same folder, flushed to disk, then
renamed over its target (``os.replace`` is atomic on POSIX and Windows). Published
files are created with a hard link instead, which fails if the target exists, so an
immutable snapshot can never be overwritten, not even by two publishers racing.
Temporary files start with ``.`` and end with ``.tmp``; readers skip them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from serbench.atomic import write_temp, write_text_atomic


def dump_json(doc: Any) -> str:
    """Diff-friendly JSON: sorted keys, indent 2, a final newline."""
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (the old content survives any crash)."""
    write_text_atomic(path, text)


def create_exclusive(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` atomically unless it exists; return whether it did.

    The content is complete on disk before the name appears, and an existing file is
    never touched (used for published snapshots and ``benchmark.json``).
    """
    tmp = write_temp(path, lambda t: t.write_text(text, encoding="utf-8", newline="\n"))
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # a filesystem without hard links: check, then rename (callers lock)
        if path.exists():
            return False
        os.replace(tmp, path)
        return True
    finally:
        tmp.unlink(missing_ok=True)
