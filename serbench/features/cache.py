"""The feature cache: extract once per corpus, in parallel, and serve memory-mapped.

Layout, under ``serbench.paths.cache_dir() / "features" / "<feature>-v<version>" / <key>``
where ``<key>`` hashes (corpus fingerprint, feature name, feature version, backend
versions such as openSMILE's, the extractor's sample rate, the params)::

    meta.json            written last (atomically): names, level, ids, generation, report
    data-<g>.npy         float32 (total rows, D), every utterance's rows stacked
    offsets-<g>.npy      int64 (N + 1,): utterance i owns rows offsets[i]:offsets[i+1]
    chunks/*.npz         finished extraction chunks not yet merged into data-<g>
    .lock                a file lock: one process extracts a key at a time

Extraction runs in a ``ProcessPoolExecutor`` (``workers``, default: the number of CPU
cores); each worker writes its chunk to a temporary name and renames it when complete.
An interrupted extraction therefore keeps every finished chunk and the next call
extracts only what is missing; ``meta.json`` appears only after the merged arrays are
complete, so a half-written cache is never read. A manifest with utterances the cache
lacks (e.g. a label map keeping more classes) extends the cache the same way. Bad input
follows :mod:`serbench.features.quality`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from serbench import paths
from serbench.errors import ConfigError, SerbenchError
from serbench.features import quality
from serbench.features.table import FeatureTable
from serbench.features.trimming import TRIM_PARAM, extractor_params, trim_silence, trim_threshold
from serbench.lazy import resolve

#: bump when the cache layout or the bad-input rule changes (part of every key)
CACHE_VERSION = 1

Row = tuple[str, str, float | None, float | None]
_EXTRACTORS: dict[str, Any] = {}


def _extractor(ref: Any, params: Mapping[str, Any]) -> Any:
    """The extractor for (ref, params), built once per process (``trim_silence`` is the
    cache's, not the extractor's)."""
    params = extractor_params(params)
    key = json.dumps([str(ref), params], sort_keys=True, default=str)
    if key not in _EXTRACTORS:
        _EXTRACTORS[key] = resolve(ref)(params)
    return _EXTRACTORS[key]


def _optional(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def extract_rows(extractor: Any, rows: Sequence[Row], trim_db: float | None = None
                 ) -> tuple[list[str], list[np.ndarray], list[dict]]:
    """Read, trim (``trim_db``: see :mod:`serbench.features.trimming`), check, extract and
    repair each row; returns (ids, arrays, report)."""
    from serbench.audio import read_audio

    ids: list[str] = []
    arrays: list[np.ndarray] = []
    report: list[dict] = []
    for utt_id, path, start, end in rows:
        try:
            signal, rate = read_audio(path, extractor.sample_rate, start=start, end=end)
        except SerbenchError as exc:
            report.append(quality.entry(utt_id, path, f"unreadable audio ({exc})", "excluded"))
            continue
        if trim_db is not None:
            signal = trim_silence(signal, rate, trim_db)
        signal, notes = quality.check_signal(
            signal, rate, getattr(extractor, "min_seconds", 0.0), utt_id, path
        )
        report.extend(notes)
        if signal is None:
            continue
        try:
            values = extractor(signal, rate)
        except Exception as exc:  # a descriptor failing on one file must not stop the corpus
            report.append(quality.entry(utt_id, path, f"extractor failed ({exc})", "excluded"))
            continue
        values, notes = quality.repair_features(values, extractor.level, extractor.names, utt_id, path)
        report.extend(notes)
        if values is not None:
            ids.append(utt_id)
            arrays.append(np.atleast_2d(values))
    return ids, arrays, report


def _write_chunk(chunk_dir: Path, ids: list[str], arrays: list[np.ndarray], dim: int, report: list[dict]) -> Path:
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    data = np.concatenate(arrays).astype(np.float32) if arrays else np.zeros((0, dim), np.float32)
    final = chunk_dir / f"chunk-{uuid.uuid4().hex}.npz"
    tmp = final.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, ids=np.array(ids, dtype=str), lengths=lengths, data=data,
                 report=np.array(json.dumps(report)))
    os.replace(tmp, final)  # a chunk exists only once it is complete
    return final


def _chunk_job(ref: Any, params: Mapping[str, Any], rows: Sequence[Row], chunk_dir: str) -> tuple[int, int]:
    """Worker: extract ``rows`` into one chunk file; returns (rows done, rows excluded)."""
    extractor = _extractor(ref, params)
    ids, arrays, report = extract_rows(extractor, rows, trim_threshold(params))
    _write_chunk(Path(chunk_dir), ids, arrays, len(extractor.names), report)
    return len(rows), len(rows) - len(ids)


def _read_chunk(path: Path) -> tuple[list[str], np.ndarray, list[dict]]:
    """(ids, lengths, report) of a chunk, without reading its data."""
    with np.load(path, allow_pickle=False) as z:
        return [str(u) for u in z["ids"]], z["lengths"], json.loads(str(z["report"]))


def _chunk_data(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        return z["data"]


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=str))
    os.replace(tmp, path)


def _merge(folder: Path, meta: dict[str, Any] | None, base: dict[str, Any]) -> dict[str, Any]:
    """Merge the current arrays and every finished chunk into generation g + 1."""
    chunks = sorted((folder / "chunks").glob("chunk-*.npz"))
    if meta is not None and not chunks:
        return meta
    parts = [_read_chunk(c) for c in chunks]
    old_ids: list[str] = meta["ids"] if meta else []
    old_data = old_offsets = None
    if meta:
        old_data = np.load(folder / f"data-{meta['generation']}.npy", mmap_mode="r")
        old_offsets = np.load(folder / f"offsets-{meta['generation']}.npy")
    ids = list(old_ids)
    lengths = [np.diff(old_offsets)] if old_offsets is not None else []
    report = list(meta["report"]) if meta else []
    for chunk_ids, chunk_lengths, chunk_report in parts:
        ids.extend(chunk_ids)
        lengths.append(chunk_lengths)
        report.extend(chunk_report)
    offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths) if lengths else [])]).astype(np.int64)
    gen = (meta["generation"] + 1) if meta else 1
    dim = len(base["names"])
    tmp = folder / f"data-{gen}.tmp.npy"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(int(offsets[-1]), dim))
    row = 0
    if old_data is not None:
        out[: old_data.shape[0]] = old_data
        row = old_data.shape[0]
    for chunk in chunks:  # one chunk in memory at a time
        block = _chunk_data(chunk)
        out[row : row + block.shape[0]] = block
        row += block.shape[0]
    out.flush()
    del out
    os.replace(tmp, folder / f"data-{gen}.npy")
    np.save(folder / f"offsets-{gen}.tmp.npy", offsets)
    os.replace(folder / f"offsets-{gen}.tmp.npy", folder / f"offsets-{gen}.npy")
    excluded = {r["utt_id"]: r["issue"] for r in report if r["action"] == "excluded"}
    new_meta = {**base, "generation": gen, "ids": ids, "report": report, "excluded": excluded}
    _write_json(folder / "meta.json", new_meta)  # the commit point
    for c in chunks:
        c.unlink()
    if meta:
        for stale in (f"data-{meta['generation']}.npy", f"offsets-{meta['generation']}.npy"):
            (folder / stale).unlink(missing_ok=True)
    return new_meta


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


def _run_jobs(ref: Any, params: Mapping[str, Any], rows: list[Row], chunk_dir: Path,
              workers: int, progress: bool, label: str) -> None:
    size = max(1, min(64, math.ceil(len(rows) / (workers * 8))))
    jobs = [rows[i : i + size] for i in range(0, len(rows), size)]
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), disable=not progress, transient=False)
    with bar:
        task = bar.add_task(label, total=len(rows))
        if workers <= 1 or len(jobs) == 1:
            for job in jobs:
                _chunk_job(ref, params, job, str(chunk_dir))
                bar.advance(task, len(job))
            return
        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            futures = [pool.submit(_chunk_job, ref, params, job, str(chunk_dir)) for job in jobs]
            for fut in as_completed(futures):
                done, _ = fut.result()
                bar.advance(task, done)
        except BaseException:
            # Ctrl-C or a failing chunk: stop now; finished chunks stay for the next call
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()


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
    extractor = _extractor(spec.extractor, merged)
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
    """What the cache holds for a feature request, without extracting anything."""
    _, merged, extractor, folder, base = _locate(feature, params, fingerprint, registry)
    base["names"] = list(extractor.names)
    meta_path = folder / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    chunks = len(list((folder / "chunks").glob("chunk-*.npz"))) if folder.exists() else 0
    out: dict[str, Any] = {
        "feature": feature, "params": merged, "folder": str(folder), "key": base["key"],
        "digest": base["digest"], "names": base["names"], "level": base["level"],
        "dim": len(base["names"]), "complete": meta is not None, "pending_chunks": chunks,
    }
    if meta is not None:
        offsets = np.load(folder / f"offsets-{meta['generation']}.npy")
        lengths = np.diff(offsets)
        out.update(
            n_utterances=len(meta["ids"]), excluded=meta["excluded"], report=meta["report"],
            frames_total=int(offsets[-1]),
            frames_per_utterance={"min": int(lengths.min()), "mean": float(lengths.mean()),
                                  "max": int(lengths.max())} if len(lengths) else {},
            bytes=int((folder / f"data-{meta['generation']}.npy").stat().st_size),
        )
    return out


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
        SerbenchError: no utterance could be extracted (the message quotes the report).
    """
    from filelock import FileLock

    spec, merged, extractor, folder, base = _locate(feature, params, fingerprint, registry)
    (folder / "chunks").mkdir(parents=True, exist_ok=True)
    key, digest = base["key"], base["digest"]
    wanted = [str(u) for u in manifest["utt_id"].to_list()]
    extracted_now = 0
    with FileLock(str(folder / ".lock")):
        meta_path = folder / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
        have = set(meta["ids"]) | set(meta["excluded"]) if meta else set()
        pending = list((folder / "chunks").glob("chunk-*.npz"))
        for c in pending:  # finished work of an interrupted run
            ids, _, rep = _read_chunk(c)
            have.update(ids)
            have.update(r["utt_id"] for r in rep if r["action"] == "excluded")
        missing = set(wanted) - have
        if missing:
            rows = _rows(manifest, missing)
            extracted_now = len(rows)
            _run_jobs(spec.extractor, merged, rows, folder / "chunks", workers or os.cpu_count() or 1,
                      progress, f"extracting {feature}")
        if meta is None or missing or pending:
            base["names"] = list(extractor.names)
            meta = _merge(folder, meta, base)
    data = np.load(folder / f"data-{meta['generation']}.npy", mmap_mode="r")
    offsets = np.load(folder / f"offsets-{meta['generation']}.npy")
    wanted_set = set(wanted)
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
