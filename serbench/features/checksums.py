"""Checksums of feature-cache files, written with the data and checked on every load.

Two kinds:

- a pending extraction chunk is named after the SHA-256 of its bytes
  (``part-<first 32 hex digits>.npz``), so name and content are committed by one rename
  and a chunk whose bytes changed no longer matches its name;
- the rows of the merged ``data-<g>.npy`` are hashed in blocks (:func:`block_size`;
  SHA-256 each, listed in ``meta.json``; the ``.npy`` header has its own), so a damaged
  block names the rows, hence the utterances, to re-extract instead of the whole corpus;
  ``offsets-<g>.npy`` has one SHA-256.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: the smallest checksummed block of a merged data file; larger files use larger blocks
#: so that ``meta.json`` lists at most :data:`MAX_BLOCKS` digests
BLOCK_BYTES = 16 * 1024
MAX_BLOCKS = 1024
CHUNK_PREFIX = "part-"
_NAME_DIGITS = 32


def file_sha256(path: Path) -> str:
    """The SHA-256 hex digest of a file's bytes."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def block_size(total: int) -> int:
    """The block size for ``total`` bytes: a power-of-two multiple of :data:`BLOCK_BYTES`
    giving at most :data:`MAX_BLOCKS` blocks."""
    size = BLOCK_BYTES
    while size * MAX_BLOCKS < total:
        size *= 2
    return size


def chunk_name(digest: str) -> str:
    """The file name of a chunk whose bytes hash to ``digest``."""
    return f"{CHUNK_PREFIX}{digest[:_NAME_DIGITS]}.npz"


def chunk_matches_name(path: Path) -> bool:
    """Whether a ``part-*.npz`` chunk's bytes still hash to its name."""
    expected = path.name[len(CHUNK_PREFIX) : -len(".npz")]
    return file_sha256(path)[:_NAME_DIGITS] == expected


class BlockHasher:
    """SHA-256 per :data:`BLOCK_BYTES` block of a byte stream, fed as it is written."""

    def __init__(self, block: int = BLOCK_BYTES) -> None:
        self.block = block
        self.digests: list[str] = []
        self._current = hashlib.sha256()
        self._filled = 0
        self.total = 0

    def update(self, data: bytes | memoryview) -> None:
        """Add the next bytes of the stream."""
        view = memoryview(data).cast("B")
        while len(view):
            take = min(self.block - self._filled, len(view))
            self._current.update(view[:take])
            self._filled += take
            self.total += take
            view = view[take:]
            if self._filled == self.block:
                self.digests.append(self._current.hexdigest())
                self._current, self._filled = hashlib.sha256(), 0

    def finish(self) -> list[str]:
        """Every block's digest (the last one may be short)."""
        if self._filled:
            self.digests.append(self._current.hexdigest())
            self._current, self._filled = hashlib.sha256(), 0
        return list(self.digests)


def block_digests(path: Path, block: int = BLOCK_BYTES, start: int = 0) -> list[str]:
    """:class:`BlockHasher` digests of an existing file's bytes from ``start`` on."""
    hasher = BlockHasher(block)
    with open(path, "rb") as fh:
        fh.seek(start)
        while data := fh.read(block):
            hasher.update(data)
    return hasher.finish()


def damaged_blocks(path: Path, expected: list[str], size: int, block: int = BLOCK_BYTES,
                   start: int = 0) -> list[int] | None:
    """Indices of the blocks of ``path`` (from byte ``start``) whose digest differs from
    ``expected``.

    Returns ``None`` when the file's size is not ``size`` (truncated or grown): then no
    block can be trusted.
    """
    if path.stat().st_size != size:
        return None
    actual = block_digests(path, block, start)
    return [i for i, (a, e) in enumerate(zip(actual, expected, strict=True)) if a != e]
