"""The leaderboard file formats (JSON Schema) and their validation.

Three kinds of file live under ``leaderboards/<benchmark>/``:

- ``benchmark.json``: what the benchmark is (corpus + fingerprint, label map, protocol,
  metric set); written once, by the first ``add``.
- ``entries/<run_id>.json``: one entry per run record (``ENTRY_SCHEMA``), derived from
  the record by :func:`serbench.leaderboard.records.entry_from_record`.
- ``published/v<N>.json``: an immutable snapshot (``SNAPSHOT_SCHEMA``): the entries and
  the computed table (groups, statistics) as they were when published.

Every file carries ``schema_version``; :mod:`serbench.leaderboard.migrations` brings
older files up to :data:`SCHEMA_VERSION` before they are validated here. Run records
(``docs/run-record.md``) are checked against ``RECORD_SCHEMA``, the subset of the record
that a leaderboard reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

from serbench.errors import SchemaError

#: The current leaderboard file schema.
SCHEMA_VERSION = 1
#: Run-record schema versions this reader understands (docs/run-record.md).
RECORD_SCHEMA_VERSIONS = (1,)

_NUM = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}
_STR = {"type": ["string", "null"]}
_OBJ = {"type": "object"}
_METRICS = {"type": "object", "additionalProperties": True}  # records: also per-class, confusion
_SCALARS = {"type": "object", "additionalProperties": {"type": ["number", "null"]}}


def _folds(metrics: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "minItems": 1,
            "items": {"type": "object", "required": ["name", "metrics"],
                      "properties": {"name": {"type": "string"}, "n_test": _INT,
                                     "metrics": metrics}}}


def _aggregate(metrics: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["mean", "std", "pooled"],
            "properties": {"mean": metrics, "std": metrics, "pooled": metrics}}


_TIMING = {
    "type": "object",
    "required": [
        "clock", "device_name", "train_seconds_per_epoch", "inference_latency_ms",
        "throughput_utt_per_s", "n_parameters", "peak_memory_mb",
    ],
    "properties": {
        "clock": {"enum": ["cuda_events", "cpu_monotonic", None]},
        "device": _STR, "device_name": _STR,
        "train_seconds_per_epoch": _NUM, "inference_latency_ms": _NUM,
        "throughput_utt_per_s": _NUM, "n_parameters": _INT, "peak_memory_mb": _NUM,
        "peak_memory_kind": _STR,
        "precision": {"enum": ["fp32", "bf16", "fp16", None]},  # absent in older entries
    },
}

_COUNTS = {
    "type": ["object", "null"],
    "required": ["by", "classes", "clusters"],
    "properties": {
        "by": {"enum": ["speaker"]},
        "classes": {"type": "array", "items": {"type": "string"}},
        "clusters": {
            "type": "object",
            "additionalProperties": {
                "type": "object", "required": ["n", "correct"],
                "properties": {
                    "n": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    "correct": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                },
            },
        },
    },
}

_CONFUSION = {
    "type": ["object", "null"],
    "required": ["classes", "matrix"],
    "properties": {
        "classes": {"type": "array", "items": {"type": "string"}},
        "matrix": {"type": "array", "items": {"type": "array",
                                              "items": {"type": "integer", "minimum": 0}}},
    },
}

#: the run record's ``single_class`` (docs/run-record.md)
_SINGLE_CLASS = {
    "type": ["object", "null"],
    "required": ["pooled", "folds", "every_fold"],
    "properties": {
        "pooled": _STR,
        "folds": {"type": "object", "additionalProperties": {"type": "string"}},
        "every_fold": {"type": "boolean"},
    },
}

ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "schema_version", "benchmark", "run_id", "record_sha256", "created",
        "serbench_version", "corpus", "protocol", "feature", "model", "seed", "tuning",
        "folds", "aggregate", "timing", "counts",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "benchmark": {"type": "string", "minLength": 1},
        "run_id": {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]+$"},
        "record_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "created": _STR, "added": _STR, "serbench_version": _STR, "git_commit": _STR,
        "corpus": {
            "type": "object", "required": ["name", "fingerprint", "label_map", "classes"],
            "properties": {
                "name": {"type": "string"}, "version": _INT, "fingerprint": {"type": "string"},
                "label_map": _STR, "classes": {"type": "array", "items": {"type": "string"}},
                "n_utterances": _INT, "n_speakers": _INT,
            },
        },
        "protocol": {
            "type": "object", "required": ["name", "split_hash"],
            "properties": {
                "name": {"type": "string"}, "version": _INT, "options": _OBJ,
                "split_hash": _STR, "test_hash": _STR, "n_folds": _INT,
                "speaker_independent": {"type": ["boolean", "null"]}, "note": _STR,
            },
        },
        "feature": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}, "version": _INT, "params": _OBJ,
                           "normalisation": _STR},
        },
        "model": {
            "type": "object", "required": ["name", "version", "variant", "hyperparameters"],
            "properties": {
                "name": {"type": "string"}, "version": {"type": "integer"}, "variant": _STR,
                "hyperparameters": _OBJ, "distribution": _STR, "distribution_version": _STR,
                "n_parameters": _INT, "citation": _STR,
            },
        },
        "seed": {"type": "integer"},
        "tuning": {"type": ["object", "null"]},
        "folds": _folds(_SCALARS),
        "aggregate": _aggregate(_SCALARS),
        "timing": _TIMING,
        "counts": _COUNTS,
        "confusion": _CONFUSION,  # optional: older entries have none
        "single_class": _SINGLE_CLASS,  # optional: from records that carry it
    },
}

BENCHMARK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schema_version", "benchmark", "corpus", "label_map", "protocol",
                 "metrics", "corpus_fingerprint"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "benchmark": {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]+$"},
        "corpus": {"type": "string"}, "label_map": _STR, "protocol": {"type": "string"},
        "metrics": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "corpus_fingerprint": {"type": "string"}, "created": _STR,
    },
}

SNAPSHOT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schema_version", "benchmark", "version", "published", "serbench_version",
                 "info", "entries", "summary"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "benchmark": {"type": "string"}, "version": {"type": "integer", "minimum": 1},
        "published": {"type": "string"}, "serbench_version": {"type": "string"},
        "note": _STR, "info": BENCHMARK_SCHEMA,
        "entries": {"type": "array", "items": ENTRY_SCHEMA},
        "summary": {"type": "object", "required": ["groups", "warnings", "metrics"]},
    },
}

RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schema_version", "run_id", "status", "corpus", "protocol", "feature",
                 "model", "training", "folds", "aggregate", "timing"],
    "properties": {
        "run_id": {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]+$"},
        "status": {"const": "complete"},
        "corpus": ENTRY_SCHEMA["properties"]["corpus"],
        "protocol": ENTRY_SCHEMA["properties"]["protocol"],
        "feature": ENTRY_SCHEMA["properties"]["feature"],
        "model": ENTRY_SCHEMA["properties"]["model"],
        "training": {"type": "object", "required": ["seed"],
                     "properties": {"seed": {"type": "integer"}}},
        "folds": _folds(_METRICS),
        "aggregate": _aggregate(_METRICS),
        "timing": _TIMING,
    },
}


def _field(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":  # name the missing key, not its parent
        missing = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(missing)
    return ".".join(p for p in parts if p)


def validate(doc: Any, schema: Mapping[str, Any], path: str, *, what: str) -> None:
    """Raise :class:`SchemaError` naming ``path`` and the first bad field of ``doc``.

    ``what`` says what kind of file it is, for the message (e.g. "leaderboard entry").
    """
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    first = errors[0]
    more = f" ({len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise SchemaError(
        path, _field(first),
        f"{first.message}{more}. This {what} does not match schema_version "
        f"{doc.get('schema_version') if isinstance(doc, dict) else '?'}; leaderboard files "
        "are generated, not edited: restore it from git or re-add the run with "
        "`serbench leaderboard add`.",
    )


def check_record(record: Any, path: str) -> None:
    """Validate a run record (docs/run-record.md) before it becomes an entry."""
    if not isinstance(record, dict):
        raise SchemaError(path, "", "a run record must be a JSON object.")
    version = record.get("schema_version")
    if version not in RECORD_SCHEMA_VERSIONS:
        raise SchemaError(
            path, "schema_version",
            f"unknown run-record schema_version {version!r}; this serbench reads "
            f"{list(RECORD_SCHEMA_VERSIONS)}. Upgrade serbench, or re-run the experiment.",
        )
    if record.get("status") != "complete":
        raise SchemaError(
            path, "status",
            f"the run is {record.get('status')!r}, not 'complete'; finish it with "
            "`serbench run --resume` before adding it to a leaderboard.",
        )
    validator = jsonschema.Draft202012Validator(RECORD_SCHEMA)
    errors = sorted(validator.iter_errors(record), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise SchemaError(path, _field(errors[0]),
                          f"{errors[0].message}; the run record is incomplete or hand-edited "
                          "(see docs/run-record.md).")
