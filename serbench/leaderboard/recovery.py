"""Finish or clean what an interrupted ``add`` or ``publish`` left in a benchmark's folder.

A version is published in one order: ``v<N>.md``, then ``v<N>.html``, then ``v<N>.json``
last; readers (:meth:`Leaderboard.versions`) know a version only by its ``.json``. So a
publish killed part-way leaves, at worst, a ``.md``/``.html`` without its ``.json`` and a
temporary file. :func:`recover` (called under the publish lock, before numbering the next
version) removes such never-visible files, so the next publish reuses the number, and
completes a version whose ``.json`` lies there without its renders (left by a serbench
that wrote the ``.json`` first); it also refreshes ``README.md`` when a publish died
before copying the latest render there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from serbench.atomic import remove_stale_temps
from serbench.leaderboard.atomic import create_exclusive, write_atomic

#: the renders of a version, written before its ``.json``
RENDER_SUFFIXES = (".md", ".html")


def _version_of(path: Path) -> int | None:
    stem = path.stem
    return int(stem[1:]) if stem.startswith("v") and stem[1:].isdigit() else None


def recover(
    folder: Path,
    published: Path,
    entries: Path,
    versions: list[int],
    snapshot: Callable[[int], dict[str, Any]],
    render: Callable[[dict[str, Any]], dict[str, str]],
) -> list[str]:
    """Clean or complete the leftovers of interrupted writes; returns what it did.

    Args:
        folder: the benchmark's folder (holding ``README.md``).
        published: its ``published/`` folder.
        entries: its ``entries/`` folder.
        versions: the version numbers whose ``.json`` exists.
        snapshot: reads a published version's snapshot.
        render: a snapshot -> ``{".md": text, ".html": text}``.
    """
    done: list[str] = []
    for where in (folder, published, entries):
        for tmp in remove_stale_temps(where):
            done.append(f"removed {tmp} (temporary file of an interrupted write)")
    known = set(versions)
    for suffix in RENDER_SUFFIXES:
        for path in sorted(published.glob(f"v*{suffix}")):
            version = _version_of(path)
            if version is not None and version not in known:
                # never visible to readers (no .json): an interrupted publish's, not shared
                path.unlink(missing_ok=True)
                done.append(f"removed {path} (an interrupted publish's file without "
                            f"v{version}.json; v{version} is published anew)")
    for version in versions:
        missing = [s for s in RENDER_SUFFIXES
                   if not (published / f"v{version}{s}").is_file()]
        if missing:
            texts = render(snapshot(version))
            for suffix in missing:
                path = published / f"v{version}{suffix}"
                if create_exclusive(path, texts[suffix]):
                    done.append(f"completed {path} (rendered from v{version}.json)")
    if versions:
        latest = published / f"v{versions[-1]}.md"
        readme = folder / "README.md"
        text = latest.read_text(encoding="utf-8") if latest.is_file() else None
        if text is not None and (not readme.is_file()
                                 or readme.read_text(encoding="utf-8") != text):
            write_atomic(readme, text)
            done.append(f"refreshed {readme} from {latest.name}")
    return done
