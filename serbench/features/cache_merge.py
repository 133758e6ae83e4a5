"""Merge a feature cache's current arrays and its finished chunks into a new generation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from serbench.features import cache_store as store

Chunk = tuple[Path, tuple[list[str], np.ndarray, list[dict]]]


def _runs(keep: list[bool]) -> list[tuple[int, int]]:
    """Index ranges [a, b) of consecutive True values."""
    out: list[tuple[int, int]] = []
    start = None
    for i, k in enumerate([*keep, False]):
        if k and start is None:
            start = i
        elif not k and start is not None:
            out.append((start, i))
            start = None
    return out


def merge(folder: Path, meta: dict[str, Any] | None, base: dict[str, Any],
          chunks: list[Chunk], drop: set[str]) -> dict[str, Any]:
    """Merge the current arrays (less the ``drop`` utterances) and the verified ``chunks``
    into generation g + 1, with checksums; ``meta.json`` is the commit point."""
    old_ids: list[str] = meta["ids"] if meta else []
    keep = [u not in drop for u in old_ids]
    old_offsets = np.load(store.offsets_path(folder, meta)) if meta else np.zeros(1, np.int64)
    old_lengths = np.diff(old_offsets)
    ids = [u for u, k in zip(old_ids, keep, strict=True) if k]
    lengths = [old_lengths[np.array(keep, dtype=bool)]] if old_ids else []
    report = [r for r in (meta["report"] if meta else []) if r["utt_id"] not in drop]
    for _, (chunk_ids, chunk_lengths, chunk_report) in chunks:
        ids.extend(chunk_ids)
        lengths.append(chunk_lengths)
        report.extend(chunk_report)
    offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths) if lengths else [])]
                             ).astype(np.int64)
    gen = (meta["generation"] + 1) if meta else 1
    dim = len(base["names"])
    store.check_free_space(folder, int(offsets[-1]) * dim * 4, "the merged feature arrays")

    def blocks() -> Iterator[np.ndarray]:
        if meta and old_ids:
            old = np.load(store.data_path(folder, meta), mmap_mode="r")
            for a, b in _runs(keep):
                yield old[old_offsets[a] : old_offsets[b]]
        for path, _ in chunks:  # one chunk in memory at a time
            yield store.chunk_data(path)

    sums = store.write_data(folder / f"data-{gen}.npy", (int(offsets[-1]), dim), blocks())
    sums["offsets"] = store.write_offsets(folder / f"offsets-{gen}.npy", offsets)
    excluded = {r["utt_id"]: r["issue"] for r in report if r["action"] == "excluded"}
    new_meta = {**base, "format": store.META_FORMAT, "generation": gen, "ids": ids,
                "report": report, "excluded": excluded, "checksums": sums}
    store.write_json(folder / "meta.json", new_meta)  # the commit point
    for path, _ in chunks:
        path.unlink()
    for stale in [*folder.glob("data-*.npy"), *folder.glob("offsets-*.npy")]:
        if stale.name not in (f"data-{gen}.npy", f"offsets-{gen}.npy"):
            stale.unlink(missing_ok=True)
    return new_meta
