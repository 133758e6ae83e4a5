"""The feature cache's files: chunks, merged arrays, ``meta.json``, with checksums.

Layout of one cache folder (see :mod:`serbench.features.cache`)::

    meta.json            written last (atomically): names, level, ids, generation, report,
                         excluded, checksums of data-<g>.npy (per block) and offsets-<g>.npy
    data-<g>.npy         float32 (total rows, D), every utterance's rows stacked
    offsets-<g>.npy      int64 (N + 1,): utterance i owns rows offsets[i]:offsets[i+1]
    chunks/part-<sha>.npz finished extraction chunks not yet merged (named by checksum)

Every file is written under a ``*.tmp`` name and renamed when complete; a failure removes
the temporary file, and a process holding the cache lock removes any it finds (left by a
killed process). Data files are written with plain ``write`` calls after reserving their
size, never through a memory map, so a full disk is an ``OSError`` (ENOSPC) turned into a
message, not a SIGBUS.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from serbench.errors import SerbenchError
from serbench.features import checksums

#: ``meta.json`` format: 2 adds checksums and retried exclusions (1 still loads)
META_FORMAT = 2
#: refuse to start writing when free space is below the estimate plus this margin
SPACE_MARGIN = 16 * 1024 * 1024
_FULL = (errno.ENOSPC, errno.EDQUOT)
_CHECKSUM_FIELDS = {"data", "data_bytes", "data_header_bytes", "data_header", "block_bytes",
                    "offsets"}


class CacheDiskFull(SerbenchError):
    """The disk holding the feature cache is (or would be) full."""


def free_space_message(folder: Path, need: int, free: int, what: str) -> str:
    return (f"not enough disk space for {what} in {folder}: about {need / 1e6:.1f} MB needed, "
            f"{free / 1e6:.1f} MB free. Free some space, or point SERBENCH_CACHE at a disk "
            "with more room, and run the same command again (finished work is kept).")


def check_free_space(folder: Path, need: int, what: str) -> None:
    """Raise :class:`CacheDiskFull` before writing when ``need`` bytes visibly do not fit."""
    free = shutil.disk_usage(folder).free
    if free < need + SPACE_MARGIN:
        raise CacheDiskFull(free_space_message(folder, need + SPACE_MARGIN, free, what))


@contextmanager
def writing(final: Path, tmp: Path) -> Iterator[None]:
    """Remove ``tmp`` on any failure; a full disk becomes :class:`CacheDiskFull`."""
    try:
        yield
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _FULL:
            raise CacheDiskFull(
                f"the disk is full while writing {final} ({exc.strerror}); the partial file "
                "was removed. Free some space, or point SERBENCH_CACHE at a disk with more "
                "room, and run the same command again (finished work is kept).") from exc
        raise


def remove_temporaries(folder: Path) -> None:
    """Delete ``*.tmp*`` files a killed process left (call with the cache lock held)."""
    for pattern in ("*.tmp*", "chunks/*.tmp*"):
        for leftover in folder.glob(pattern):
            leftover.unlink(missing_ok=True)


def write_chunk(chunk_dir: Path, ids: list[str], arrays: list[np.ndarray], dim: int,
                report: list[dict]) -> Path:
    """One finished extraction chunk, named by its checksum; returns its path."""
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    data = np.concatenate(arrays).astype(np.float32) if arrays else np.zeros((0, dim), np.float32)
    tmp = chunk_dir / f"{uuid.uuid4().hex}.tmp"
    with writing(chunk_dir / "part-*.npz", tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, ids=np.array(ids, dtype=str), lengths=lengths, data=data,
                     report=np.array(json.dumps(report)))
            fh.flush()
            os.fsync(fh.fileno())
        final = chunk_dir / checksums.chunk_name(checksums.file_sha256(tmp))
        os.replace(tmp, final)  # a chunk exists only once complete, under its checksum
    return final


def pending_chunks(folder: Path) -> list[Path]:
    """Finished chunks (``part-*`` with checksums; ``chunk-*`` from caches before them)."""
    chunk_dir = folder / "chunks"
    return sorted([*chunk_dir.glob("part-*.npz"), *chunk_dir.glob("chunk-*.npz")])


def read_chunk(path: Path) -> tuple[list[str], np.ndarray, list[dict]] | None:
    """(ids, lengths, report) of a verified chunk; ``None`` when it is damaged."""
    try:
        if path.name.startswith(checksums.CHUNK_PREFIX) and not checksums.chunk_matches_name(path):
            return None
        with np.load(path, allow_pickle=False) as z:
            return [str(u) for u in z["ids"]], z["lengths"], json.loads(str(z["report"]))
    except (ValueError, KeyError, EOFError, zipfile.BadZipFile):  # truncated, bad CRC
        return None


def chunk_data(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        return z["data"]


def read_meta(folder: Path) -> dict[str, Any] | None:
    """``meta.json``; ``None`` when absent. Raises ``ValueError`` when it is unreadable."""
    path = folder / "meta.json"
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is damaged ({exc})") from exc
    if not isinstance(meta, dict) or not {"ids", "generation", "report", "excluded"} <= set(meta):
        raise ValueError(f"{path} is damaged (fields missing)")
    sums = meta.get("checksums")
    if sums is not None and not _CHECKSUM_FIELDS <= set(sums):
        raise ValueError(f"{path} is damaged (checksum fields missing)")
    return meta


def write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with writing(path, tmp):
        with open(tmp, "w") as fh:
            fh.write(json.dumps(obj, indent=1, default=str))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def data_path(folder: Path, meta: dict[str, Any]) -> Path:
    return folder / f"data-{meta['generation']}.npy"


def offsets_path(folder: Path, meta: dict[str, Any]) -> Path:
    return folder / f"offsets-{meta['generation']}.npy"


def damaged_ids(folder: Path, meta: dict[str, Any]) -> tuple[set[str], str]:
    """The utterances whose cached rows fail their checksums, and why (``""``: none).

    A cache written before checksums (no ``checksums`` in ``meta.json``) is not checked.
    """
    sums = meta.get("checksums")
    if not sums:
        return set(), ""
    every = set(meta["ids"])
    offsets_file, data_file = offsets_path(folder, meta), data_path(folder, meta)
    for path in (offsets_file, data_file):
        if not path.is_file():
            return every, f"{path} is missing"
    if checksums.file_sha256(offsets_file) != sums["offsets"]:
        return every, f"{offsets_file} fails its checksum"
    header = sums["data_header_bytes"]
    bad = checksums.damaged_blocks(data_file, sums["data"], sums["data_bytes"],
                                   sums["block_bytes"], start=header)
    if bad is None:
        size = data_file.stat().st_size
        return every, f"{data_file} is truncated or resized ({size} of {sums['data_bytes']} bytes)"
    with open(data_file, "rb") as fh:
        if hashlib.sha256(fh.read(header)).hexdigest() != sums["data_header"]:
            return every, f"{data_file} has a damaged header"
    if not bad:
        return set(), ""
    offsets = np.load(offsets_file)
    row_bytes = 4 * len(meta["names"])
    hit: set[str] = set()
    for b in bad:  # block b holds the bytes [b * block, (b + 1) * block) after the header
        lo, hi = b * sums["block_bytes"], (b + 1) * sums["block_bytes"]
        first, last = lo // row_bytes, (hi - 1) // row_bytes
        starts, ends = offsets[:-1], offsets[1:]
        hit.update(u for u, s, e in zip(meta["ids"], starts, ends, strict=True)
                   if s <= last and e > first)
    return hit, f"{data_file} fails its checksum in block(s) {bad}"


def _write_npy(path: Path, shape: tuple[int, int], blocks: Iterator[np.ndarray]) -> dict[str, Any]:
    """Stream float32 ``blocks`` into ``<path>.tmp``, an ``.npy`` of ``shape``."""
    tmp = path.with_name(path.name + ".tmp")
    with writing(path, tmp), open(tmp, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f4", "fortran_order": False, "shape": shape})
        header = fh.tell()
        size = header + shape[0] * shape[1] * 4
        os.posix_fallocate(fh.fileno(), 0, size)  # a full disk fails here, before the data
        for block in blocks:
            fh.write(np.ascontiguousarray(block, dtype="<f4").tobytes())
        fh.flush()
        os.fsync(fh.fileno())
    return {"tmp": tmp, "header": header, "size": size}


def write_data(path: Path, shape: tuple[int, int], blocks: Iterator[np.ndarray]) -> dict[str, Any]:
    """Write ``data-<g>.npy`` (renamed into place) and return its ``meta.json`` checksums."""
    info = _write_npy(path, shape, blocks)
    tmp = info["tmp"]
    with writing(path, tmp):
        block = checksums.block_size(info["size"] - info["header"])
        # read back: the checksums cover what reached the disk
        with open(tmp, "rb") as fh:
            header = hashlib.sha256(fh.read(info["header"])).hexdigest()
        digests = checksums.block_digests(tmp, block, start=info["header"])
        os.replace(tmp, path)
    return {"data": digests, "data_bytes": info["size"], "data_header_bytes": info["header"],
            "data_header": header,
            "block_bytes": block}


def write_offsets(path: Path, offsets: np.ndarray) -> str:
    """Write ``offsets-<g>.npy`` and return its SHA-256."""
    tmp = path.with_name(path.name + ".tmp")
    with writing(path, tmp):
        with open(tmp, "wb") as fh:
            np.save(fh, offsets)
            fh.flush()
            os.fsync(fh.fileno())
        digest = checksums.file_sha256(tmp)
        os.replace(tmp, path)
    return digest
