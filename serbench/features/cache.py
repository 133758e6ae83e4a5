"""The feature cache: extract once per corpus, in parallel, verify, serve memory-mapped.

Layout, under ``serbench.paths.cache_dir() / "features" / "<feature>-v<version>" / <key>``
where ``<key>`` hashes (corpus fingerprint, feature name, feature version, backend
versions such as openSMILE's, the extractor's sample rate, the params); the files and
their checksums are described in :mod:`serbench.features.cache_store`.

Extraction runs in worker processes (``workers``, default: the number of CPU cores,
see :mod:`serbench.features.extraction_workers`); each finished chunk is renamed into
place under its checksum. An interrupted extraction (Ctrl-C, SIGKILL) keeps every
finished chunk and the next call extracts exactly what is missing; ``meta.json`` appears
only after the merged arrays are complete, so a half-written cache is never read. A
manifest with utterances the cache lacks extends the cache the same way.

Every load checks the checksums. A damaged block of the merged data (or a damaged
chunk) is named on stderr and only its utterances are extracted again; a read-only
cache is read without taking the lock and, when it cannot be repaired, the message gives
the command to run. A cache written before checksums loads once more: its checksums are
added and its excluded utterances are retried once, with a one-line notice. Bad input
follows :mod:`serbench.features.quality`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from serbench import paths
from serbench.errors import ConfigError, SerbenchError
from serbench.features import cache_store as store
from serbench.features import quality
from serbench.features.cache_merge import merge
from serbench.features.extraction_workers import (
    Row,
    build_extractor,
    chunk_job,
    extract_rows,
    run_jobs,
)
from serbench.features.table import FeatureTable
from serbench.features.trimming import TRIM_PARAM, trim_threshold

__all__ = ["CACHE_VERSION", "ExtractionInterrupted", "cache_key", "cache_status", "extract_rows", "load_features"]

#: bump when the cache layout or the bad-input rule changes (part of every key); checksums
#: and retried exclusions (meta.json format 2) keep the key: older caches are upgraded
CACHE_VERSION = 1

#: the job each worker runs (a module attribute so tests can interrupt it)
_chunk_job = chunk_job


class ExtractionInterrupted(KeyboardInterrupt):
    """Ctrl-C during extraction; the finished chunks stay and the next call extracts the
    rest."""

    def __init__(self, folder: Path, chunks: int):
        self.folder, self.chunks = folder, chunks
        super().__init__(f"extraction interrupted; {chunks} finished chunk(s) kept in "
                         f"{folder / 'chunks'}. Run the same command again to extract the rest.")


def _notice(message: str) -> None:
    """One line on stderr: what the cache found and did about it."""
    print(f"serbench: {message}", file=sys.stderr, flush=True)


def _optional(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def cache_key(spec: Any, params: Mapping[str, Any], extractor: Any, fingerprint: str) -> dict[str, Any]:
    """Everything that changes the cached values."""
    return {
        "fingerprint": fingerprint,
        "feature": spec.name,
        "version": spec.version,
        "params": dict(params),
        "backend": dict(extractor.backend),
        "sample_rate": extractor.sample_rate,
        "cache_version": CACHE_VERSION,
    }


def _rows(manifest: pl.DataFrame, wanted: set[str]) -> list[Row]:
    cols = manifest.columns
    out: list[Row] = []
    for r in manifest.iter_rows(named=True):
        if r["utt_id"] in wanted:
            start = _optional(r["start"]) if "start" in cols else None
            end = _optional(r["end"]) if "end" in cols else None
            out.append((str(r["utt_id"]), str(r["path"]), start, end))
    return out


def _locate(feature: str, params: Mapping[str, Any], fingerprint: str, registry: Any | None):
    """(spec, merged params, extractor, cache folder, base meta) of a feature request."""
    from serbench.plugins import get_registry

    reg = registry if registry is not None else get_registry()
    spec = reg.feature(feature)
    if spec.level == "tokens":
        raise ConfigError(
            f"feature {feature!r} holds token ids built per fold from the manifest's "
            "'transcript' column; use serbench.features.tokens.Vocabulary, not load_features"
        )
    merged = {**dict(spec.default_params), **dict(params)}
    if trim_threshold(merged, spec.name) is None:  # checks the value; off is not a new key
        merged.pop(TRIM_PARAM, None)
    extractor = build_extractor(spec.extractor, merged)
    key = cache_key(spec, merged, extractor, fingerprint)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    folder = paths.cache_dir() / "features" / f"{spec.name}-v{spec.version}" / digest
    # names are added only when arrays are written: reading a warm cache never starts openSMILE
    base = {"key": key, "digest": digest, "level": extractor.level}
    return spec, merged, extractor, folder, base



def cache_status(
    feature: str, *, params: Mapping[str, Any] = {},  # noqa: B006 - read only
    fingerprint: str, registry: Any | None = None,
) -> dict[str, Any]:
    """What the cache holds for a feature request, without extracting anything
    (``verified``: every checksum matches; ``None`` for a cache written before them)."""
    _, merged, extractor, folder, base = _locate(feature, params, fingerprint, registry)
    base["names"] = list(extractor.names)
    try:
        meta = store.read_meta(folder)
        problem = ""
    except ValueError as exc:
        meta, problem = None, str(exc)
    chunks = len(store.pending_chunks(folder)) if folder.exists() else 0
    out: dict[str, Any] = {
        "feature": feature, "params": merged, "folder": str(folder), "key": base["key"],
        "digest": base["digest"], "names": base["names"], "level": base["level"],
        "dim": len(base["names"]), "complete": meta is not None, "pending_chunks": chunks,
        "problem": problem,
    }
    if meta is not None:
        damaged, why = store.damaged_ids(folder, meta)
        out.update(verified=(not damaged) if meta.get("checksums") else None, problem=why,
                   damaged=sorted(damaged))
        if damaged:
            return out
        offsets = np.load(store.offsets_path(folder, meta))
        lengths = np.diff(offsets)
        out.update(
            n_utterances=len(meta["ids"]), excluded=meta["excluded"], report=meta["report"],
            frames_total=int(offsets[-1]),
            frames_per_utterance={"min": int(lengths.min()), "mean": float(lengths.mean()),
                                  "max": int(lengths.max())} if len(lengths) else {},
            bytes=int(store.data_path(folder, meta).stat().st_size),
        )
    return out


def _repair_hint(feature: str, folder: Path) -> str:
    return (f"Make {folder} writable (or set SERBENCH_CACHE to a writable folder) and run "
            f"`serbench features extract {feature} --corpus <corpus> [--data <path>]` again.")


def _read_only_path(folder: Path, wanted: set[str], feature: str) -> dict[str, Any] | None:
    """The complete ``meta.json`` when the cache can be served without the lock: it covers
    every wanted utterance, no chunk is pending and every checksum matches."""
    try:
        meta = store.read_meta(folder)
    except (ValueError, OSError):
        return None
    if meta is None or store.pending_chunks(folder):
        return None
    if not wanted <= set(meta["ids"]) | set(meta["excluded"]):
        return None
    writable = os.access(folder, os.W_OK)
    if not meta.get("checksums"):
        if writable:
            return None  # upgraded under the lock
        _notice(f"the cache {folder} was written before checksums and is read-only: "
                "it is read unverified.")
        return meta
    damaged, why = store.damaged_ids(folder, meta)
    if damaged and not writable:
        raise SerbenchError(f"the feature cache is damaged: {why} ({len(damaged)} "
                            f"utterance(s)), and it is read-only. {_repair_hint(feature, folder)}")
    return None if damaged else meta


def _fill(folder: Path, manifest: pl.DataFrame, wanted: set[str], spec: Any,
          merged: Mapping[str, Any], extractor: Any, base: dict[str, Any],
          workers: int | None, progress: bool) -> tuple[dict[str, Any], int]:
    """With the lock held: verify, extract what is missing or damaged, merge.
    Returns (meta, utterances extracted now)."""
    store.remove_temporaries(folder)
    try:
        meta = store.read_meta(folder)
    except ValueError as exc:
        _notice(f"{exc}: extracting this cache again.")
        meta = None
    drop: set[str] = set()
    if meta is not None and not meta.get("checksums"):
        drop = set(meta["excluded"])
        _notice(f"the cache {folder} was written before checksums: adding them"
                + (f" and retrying its {len(drop)} excluded utterance(s) once." if drop else "."))
    elif meta is not None:
        damaged, why = store.damaged_ids(folder, meta)
        if damaged:
            _notice(f"{why}: extracting its {len(damaged)} utterance(s) again.")
            if len(damaged) == len(meta["ids"]):
                meta = None  # nothing of this generation can be kept
            drop = damaged
    have = (set(meta["ids"]) | set(meta["excluded"])) - drop if meta else set()
    chunks = []
    for path in store.pending_chunks(folder):  # finished work of an interrupted run
        parts = store.read_chunk(path)
        if parts is None:
            _notice(f"the chunk {path} is damaged (checksum or format): extracting its "
                    "utterances again.")
            path.unlink()
            continue
        chunks.append((path, parts))
        have.update(parts[0])
        have.update(r["utt_id"] for r in parts[2] if r["action"] == "excluded")
    missing = wanted - have
    if missing:
        rows = _rows(manifest, missing)
        store.check_free_space(folder, _estimate_bytes(rows, extractor),
                               f"extracting {len(rows)} utterance(s) of {spec.name}")
        try:
            run_jobs(_chunk_job, spec.extractor, merged, rows, folder / "chunks",
                     workers or os.cpu_count() or 1, progress, f"extracting {spec.name}")
        except BaseException as exc:
            store.remove_temporaries(folder)  # a terminated worker's half-written chunk
            if isinstance(exc, KeyboardInterrupt):
                raise ExtractionInterrupted(folder, len(store.pending_chunks(folder))) from exc
            raise
        chunks = [(p, store.read_chunk(p)) for p in store.pending_chunks(folder)]
        bad = [p for p, parts in chunks if parts is None]
        if bad:
            raise SerbenchError(f"the chunk {bad[0]} failed its checksum right after it was "
                                "written: the disk or memory may be faulty. Run the same "
                                "command again.")
    if meta is None or chunks or drop or not meta.get("checksums"):
        base["names"] = list(extractor.names)
        meta = merge(folder, meta, base, chunks, drop)
    return meta, len(missing)


def _estimate_bytes(rows: list[Row], extractor: Any) -> int:
    """Bytes the chunks of ``rows`` will take: exact for functionals; for frames, about
    100 frames a second, the duration read from the audio file's size (16-bit mono)."""
    row_bytes = 4 * len(extractor.names)
    if extractor.level != "frames":
        return len(rows) * row_bytes
    seconds = 0.0
    for _, path, start, end in rows:
        if start is not None and end is not None:
            seconds += end - start
        elif os.path.isfile(path):
            seconds += os.path.getsize(path) / 32000.0
    return int(seconds * 100 * row_bytes)


def load_features(
    manifest: pl.DataFrame,
    feature: str,
    *,
    params: Mapping[str, Any] = {},  # noqa: B006 - read only, the architecture's signature
    fingerprint: str,
    registry: Any | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> FeatureTable:
    """Features of every utterance of ``manifest``, extracted once and then memory-mapped.

    Args:
        manifest: rows with ``utt_id``, ``path`` and optional ``start``/``end``.
        feature: a registered feature name (``serbench features list``).
        params: overrides of the feature's ``default_params``.
        fingerprint: the corpus fingerprint (``serbench.corpora.api.corpus_fingerprint``).
        registry: where to look the feature up (default: the installed plugins).
        workers: extraction processes (default: the number of CPU cores).
        progress: show a progress bar and the bad-input summary.

    Raises:
        ConfigError: a token feature (built per fold, see ``serbench.features.tokens``).
        SerbenchError: no utterance could be extracted (the message quotes the report);
            the disk is full (``CacheDiskFull``); a damaged or incomplete cache is read-only.
        ExtractionInterrupted: Ctrl-C; finished chunks are kept for the next call.
    """
    from filelock import FileLock

    spec, merged, extractor, folder, base = _locate(feature, params, fingerprint, registry)
    key, digest = base["key"], base["digest"]
    wanted = [str(u) for u in manifest["utt_id"].to_list()]
    wanted_set = set(wanted)
    extracted_now = 0
    meta = _read_only_path(folder, wanted_set, feature) if folder.is_dir() else None
    try:
        if meta is not None:  # read without the lock: a concurrent merge may remove it
            data = np.load(store.data_path(folder, meta), mmap_mode="r")
            offsets = np.load(store.offsets_path(folder, meta))
    except FileNotFoundError:
        meta = None
    if meta is None:
        try:
            (folder / "chunks").mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(folder / ".lock"))
            lock.acquire()
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            raise SerbenchError(
                f"the feature cache {folder} is read-only ({exc.strerror}) and does not hold "
                f"every utterance of this manifest verified. {_repair_hint(feature, folder)}"
            ) from exc
        try:
            meta, extracted_now = _fill(folder, manifest, wanted_set, spec, merged, extractor,
                                        base, workers, progress)
            data = np.load(store.data_path(folder, meta), mmap_mode="r")
            offsets = np.load(store.offsets_path(folder, meta))
        finally:
            lock.release()
    report = [r for r in meta["report"] if r["utt_id"] in wanted_set]
    excluded = {u: why for u, why in meta["excluded"].items() if u in wanted_set}
    if wanted and len(excluded) == len(wanted_set):
        raise SerbenchError(
            f"no utterance could be extracted for feature {feature!r}; first problems: "
            + "; ".join(f"{r['path']}: {r['issue']}" for r in report[:3])
        )
    if report and progress and extracted_now:
        _print_report(feature, report)
    info = {
        "name": spec.name, "version": spec.version, "params": merged, "key": digest,
        "backend": key["backend"], "sample_rate": key["sample_rate"], "cache": str(folder),
        "excluded": excluded, "report_summary": quality.summarise(report),
        "extracted_now": extracted_now,
    }
    table = FeatureTable(meta["ids"], data, offsets, meta["names"], meta["level"], info)
    if len(wanted_set) < len(meta["ids"]):  # serve only the manifest's utterances
        return table.subset([u for u in wanted if u in table])
    return table


def _print_report(feature: str, report: list[dict]) -> None:
    from rich.console import Console

    console = Console(stderr=True)
    summary = ", ".join(f"{k}: {v}" for k, v in quality.summarise(report).items())
    console.print(f"[yellow]{feature}: {len(report)} file issue(s) ({summary}); "
                  "see `serbench features info` for the full per-file report[/yellow]")
    for r in report[:10]:
        console.print(f"  {r['utt_id']} ({r['path']}): {r['issue']} -> {r['action']}")
