"""Bring old leaderboard files up to the current schema, one version step at a time.

``MIGRATIONS[kind][v]`` turns a ``kind`` document of schema ``v`` into schema ``v + 1``;
:func:`migrate` applies them in order, so a file written by any earlier serbench stays
readable. Migrations work on plain dicts and never touch the file on disk: published
snapshots are immutable, they are upgraded in memory each time they are read.

Schema 0 is the layout of serbench's pre-release leaderboards (no ``schema_version``
key): one flat JSON object per entry, scores as top-level fields (``ua``, ``ua_std``,
``fold_ua``...), and a snapshot that was a bare list of those entries with a date.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

from serbench.errors import SchemaError
from serbench.leaderboard.schema import SCHEMA_VERSION

Doc = dict[str, Any]

#: Metrics of a benchmark when its file does not say (schema 0 had no metric set).
DEFAULT_METRICS = ["ua", "wa", "macro_f1"]


def _entry_0_to_1(doc: Doc) -> Doc:
    """Schema 0 entry (flat) -> schema 1 (nested, as derived from run records)."""
    def scores(prefix: str = "") -> dict[str, float]:
        return {m: doc[f"{m}{prefix}"] for m in ("ua", "wa", "macro_f1")
                if doc.get(f"{m}{prefix}") is not None}

    fold_ua = doc.get("fold_ua") or {}
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return {
        "schema_version": 1,
        "benchmark": doc["benchmark"],
        "run_id": doc["run"],
        "record_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
        "created": doc.get("date"),
        "added": doc.get("date"),
        "serbench_version": doc.get("serbench_version"),
        "git_commit": None,
        "corpus": {"name": doc["corpus"], "version": None, "fingerprint": doc["fingerprint"],
                   "label_map": doc.get("label_map"), "classes": doc.get("classes", []),
                   "n_utterances": None, "n_speakers": None},
        "protocol": {"name": doc["protocol"], "version": None, "options": {},
                     "split_hash": doc.get("split_hash"), "n_folds": len(fold_ua) or None,
                     "speaker_independent": None, "note": None},
        "feature": {"name": doc.get("features") or "unknown", "version": None, "params": {},
                    "normalisation": None},
        "model": {"name": doc["model"], "version": int(doc.get("model_version", 1)),
                  "variant": doc.get("variant"), "hyperparameters": doc.get("hparams") or {},
                  "distribution": None, "distribution_version": None,
                  "n_parameters": doc.get("params"), "citation": None},
        "seed": int(doc.get("seed", 0)),
        "tuning": None,
        "folds": [{"name": str(name), "n_test": None, "metrics": {"ua": value}}
                  for name, value in sorted(fold_ua.items())],
        "aggregate": {"mean": scores(), "std": scores("_std"),
                      "pooled": {"ua": doc.get("ua_pooled", doc.get("ua"))}},
        "timing": {"clock": None, "device": doc.get("device"), "device_name": doc.get("device"),
                   "train_seconds_per_epoch": doc.get("train_s_per_epoch"),
                   "inference_latency_ms": doc.get("latency_ms"),
                   "throughput_utt_per_s": (1000.0 / doc["latency_ms"]
                                            if doc.get("latency_ms") else None),
                   "n_parameters": doc.get("params"), "peak_memory_mb": None,
                   "peak_memory_kind": None},
        "counts": None,
    }


def _benchmark_0_to_1(doc: Doc) -> Doc:
    """Schema 0 ``benchmark.json`` (no metric set) -> schema 1."""
    return {"schema_version": 1, "benchmark": doc["name"], "corpus": doc["corpus"],
            "label_map": doc.get("label_map"), "protocol": doc["protocol"],
            "metrics": list(doc.get("metrics") or DEFAULT_METRICS),
            "corpus_fingerprint": doc["fingerprint"], "created": doc.get("created")}


def _snapshot_0_to_1(doc: Doc) -> Doc:
    """Schema 0 snapshot (entries + date) -> schema 1; the summary is recomputed on read
    (the store does it when ``summary`` is absent), since schema 0 stored none."""
    entries = [_entry_0_to_1(e) for e in doc["entries"]]
    first = entries[0] if entries else None
    info = doc.get("info") or {
        "schema_version": 1, "benchmark": doc["benchmark"],
        "corpus": first["corpus"]["name"] if first else "unknown",
        "label_map": first["corpus"]["label_map"] if first else None,
        "protocol": first["protocol"]["name"] if first else "unknown",
        "metrics": list(DEFAULT_METRICS),
        "corpus_fingerprint": first["corpus"]["fingerprint"] if first else "",
        "created": doc.get("date"),
    }
    return {"schema_version": 1, "benchmark": doc["benchmark"], "version": int(doc["version"]),
            "published": doc["date"], "serbench_version": doc.get("serbench_version", "unknown"),
            "note": None, "info": info, "entries": entries}


MIGRATIONS: dict[str, list[Callable[[Doc], Doc]]] = {
    "entry": [_entry_0_to_1],
    "benchmark": [_benchmark_0_to_1],
    "snapshot": [_snapshot_0_to_1],
}


def schema_version_of(doc: Any, path: str) -> int:
    """The schema version of a document (0 when the key is absent: the pre-release layout)."""
    if not isinstance(doc, dict):
        raise SchemaError(path, "", "a leaderboard file must hold a JSON object.")
    version = doc.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise SchemaError(path, "schema_version",
                          f"{version!r} is not a schema version (a non-negative integer).")
    if version > SCHEMA_VERSION:
        raise SchemaError(
            path, "schema_version",
            f"unknown schema_version {version}: this serbench reads schema versions up to "
            f"{SCHEMA_VERSION}. The file was written by a newer serbench; upgrade serbench.",
        )
    return version


def migrate(doc: Any, kind: str, path: str) -> Doc:
    """Return ``doc`` (a ``kind`` file read from ``path``) upgraded to :data:`SCHEMA_VERSION`.

    The input is not modified. A failing step is reported with the file and the field it
    needed, since it means the old file was itself hand-edited or truncated.
    """
    version = schema_version_of(doc, path)
    steps = MIGRATIONS[kind]
    out = copy.deepcopy(doc)
    for step in steps[version:SCHEMA_VERSION]:
        try:
            out = step(out)
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            field = exc.args[0] if isinstance(exc, KeyError) else ""
            raise SchemaError(
                path, str(field),
                f"cannot migrate this {kind} file from schema_version {version} "
                f"({type(exc).__name__}: {exc}); the file is incomplete or was edited by hand.",
            ) from exc
    return out
