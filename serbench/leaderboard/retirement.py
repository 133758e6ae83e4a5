"""Taking rows off a leaderboard without losing them: retired entries.

A row must sometimes leave the board: its model had a bug fixed since, or a campaign
re-ran it under a better protocol. Deleting the entry file would lose it and change the
next version without a word. Retiring instead moves the entry, unchanged, to
``retired/<run_id>.json`` inside a small wrapper that says when and why::

    {"run_id": ..., "retired": "2026-12-05T08:00:00+00:00", "reason": "...",
     "after_version": 5, "entry": {...the entry as it was...}}

(``after_version``: the latest published version when it was retired, ``null`` before
the first.)

Published versions keep the row (they are immutable), ``add`` does not bring a retired
run back unless asked (``--replace``: a sweep re-adding its finished runs must not undo a
decision), and the next ``publish`` names what was retired since the previous version in
its note.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from serbench.errors import ConfigError
from serbench.leaderboard.atomic import dump_json, write_atomic


def retired_dir(board_dir: Path) -> Path:
    """``<benchmark>/retired/``."""
    return Path(board_dir) / "retired"


def retired_path(board_dir: Path, run_id: str) -> Path:
    return retired_dir(board_dir) / f"{run_id}.json"


def read_retired(board_dir: Path) -> list[dict[str, Any]]:
    """Every retired entry's wrapper, oldest retirement first."""
    folder = retired_dir(board_dir)
    if not folder.is_dir():
        return []
    docs = [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(folder.glob("*.json")) if not p.name.startswith(".")]
    return sorted(docs, key=lambda d: (d["retired"], d["run_id"]))


def retire(board_dir: Path, entries_dir: Path, run_ids: Sequence[str], reason: str,
           *, after_version: int | None) -> list[Path]:
    """Move the entries of ``run_ids`` to ``retired/`` with ``reason``; ``after_version``
    is the latest published version (the next publish names these retirements).

    Every run id is checked before anything moves, so a typo retires nothing.

    Returns:
        The wrappers written, one per run id.
    Raises:
        ConfigError: an empty reason, or a run id with no entry on the board.
    """
    if not reason.strip():
        raise ConfigError("--reason is required: say why the rows leave the board (it goes "
                          "into the next published version's note)")
    missing = [r for r in run_ids if not (Path(entries_dir) / f"{r}.json").is_file()]
    if missing:
        known = sorted(p.stem for p in Path(entries_dir).glob("*.json")
                       if not p.name.startswith("."))
        raise ConfigError(f"no entry for run id(s) {', '.join(missing)} in {entries_dir} "
                          f"(entries: {', '.join(known) or 'none'}); nothing was retired")
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    written = []
    for run_id in dict.fromkeys(run_ids):
        source = Path(entries_dir) / f"{run_id}.json"
        wrapper = {"run_id": run_id, "retired": stamp, "reason": reason.strip(),
                   "after_version": after_version, "entry": json.loads(source.read_text(encoding="utf-8"))}
        target = retired_path(board_dir, run_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, dump_json(wrapper))  # the copy first: a crash loses nothing
        source.unlink()
        written.append(target)
    return written


def retired_since(board_dir: Path, version: int | None) -> list[dict[str, Any]]:
    """Wrappers retired while ``version`` was the latest published one (``None``: before
    the first)."""
    return [d for d in read_retired(board_dir) if d.get("after_version") == version]


def note_of_retirements(retired: Sequence[dict[str, Any]], since: int | None) -> str:
    """``retired since v3: a, b (reason); c (other reason)``, or ``""``; ``since`` is the
    previous published version (``None``: before the first)."""
    by_reason: dict[str, list[str]] = {}
    for doc in retired:
        by_reason.setdefault(doc["reason"], []).append(doc["run_id"])
    if not by_reason:
        return ""
    when = f"since v{since}" if since is not None else "before the first version"
    return f"retired {when}: " + "; ".join(
        f"{', '.join(ids)} ({reason})" for reason, ids in by_reason.items())
