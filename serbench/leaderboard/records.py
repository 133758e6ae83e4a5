"""Run records (docs/run-record.md) -> leaderboard entries.

An entry keeps what a leaderboard row and a fair comparison need: identity (model,
variant, versions, features, hyperparameters or tuning study, seed), per-fold and
aggregate scores, timing, and, when ``predictions.parquet`` lies beside the record,
per-speaker x per-class counts of correct predictions (enough for a speaker-level
bootstrap of the pooled UA, without copying every prediction into git).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from serbench.errors import ConfigError, SchemaError
from serbench.leaderboard.schema import SCHEMA_VERSION, check_record
from serbench.paths import runs_dir


def is_foreign_folder(run: str | Path) -> bool:
    """A folder that is no run at all: neither ``record.json`` (a finished run) nor
    ``config.json`` (a run's first file) inside, e.g. ``runs/studies/`` from ``tune``."""
    path = Path(run).expanduser()
    return path.is_dir() and not (path / "record.json").is_file() \
        and not (path / "config.json").is_file()


def resolve_record_path(run: str | Path) -> Path:
    """``run`` may be a run folder, a ``record.json``, or a run id under ``SERBENCH_RUNS``.

    Raises:
        ConfigError: no record there; the message suggests ``--resume`` only for a run
            folder whose folds are not all done (it has ``config.json``).
    """
    path = Path(run).expanduser()
    if is_foreign_folder(path):
        raise ConfigError(
            f"{path} is not a run folder (no record.json or config.json inside): pass run "
            "folders (runs/<run_id>/), their record.json files, or run ids under "
            "$SERBENCH_RUNS")
    if path.is_dir():
        if not (path / "record.json").is_file():
            raise ConfigError(
                f"run {path} is not finished (config.json but no record.json): a run writes "
                "record.json only once every fold is done; finish it with the command in "
                f"{path / 'config.json'} plus --resume (`serbench run --config "
                f"{path / 'config.json'} --resume`)")
        path = path / "record.json"
    elif not path.exists() and not path.suffix and (runs_dir() / str(run)).is_dir():
        path = runs_dir() / str(run) / "record.json"
    if not path.is_file():
        raise ConfigError(
            f"no run record at {path}: pass a run folder (runs/<run_id>/), its record.json, "
            "or a run id under $SERBENCH_RUNS"
        )
    return path


def load_record(path: Path) -> dict[str, Any]:
    """Read and validate one run record."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(str(path), "", f"not valid JSON ({exc}).") from exc
    check_record(record, str(path))
    return record


def benchmark_id(record: Mapping[str, Any]) -> str:
    """``<corpus>-<label_map>-<protocol>``, e.g. ``iemocap-4class-loso``; a cross-corpus
    run is keyed by its pair and label map, e.g. ``nemo-to-synthetic-4class``."""
    label_map = record["corpus"].get("label_map") or "all"
    if record.get("cross_corpus"):  # the protocol is implied by the pair
        return f"{record['cross_corpus']['pair']}-{label_map}"
    return f"{record['corpus']['name']}-{label_map}-{record['protocol']['name']}"


def _scalars(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The scalar metrics (per-class recall and confusion matrices stay in the record)."""
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def _hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def partition_hash(record: Mapping[str, Any], predictions: Any = None) -> str:
    """A hash of the test partition only: which utterances each fold tests.

    The protocol's ``split_hash`` also covers the train/validation carving, which may
    change with the seed; two runs with equal test hashes are still paired fairly.
    Exact (utterance ids) from the predictions frame, else from each fold's test
    speakers and size.
    """
    if predictions is not None:
        folds: dict[str, list[str]] = {}
        for fold, utt in predictions.select("fold", "utt_id").iter_rows():
            folds.setdefault(str(fold), []).append(str(utt))
        return _hash({f: sorted(ids) for f, ids in folds.items()})
    return _hash({str(f["name"]): [sorted(f.get("test_speakers") or []), f.get("n_test")]
                  for f in record["folds"]})


def read_predictions(path: Path) -> Any:
    """``predictions.parquet`` as a polars frame (``None`` when the file is absent)."""
    if not path.is_file():
        return None
    import polars as pl

    try:
        return pl.read_parquet(path, columns=["utt_id", "fold", "speaker", "label", "pred"])
    except Exception as exc:  # polars raises several types for bad files
        raise SchemaError(str(path), "", f"cannot read the predictions ({exc}); expected "
                          "columns utt_id, fold, speaker, label, pred (docs/run-record.md).") from exc


def prediction_counts(df: Any, classes: list[str], path: Path) -> dict[str, Any]:
    """Per-speaker, per-class totals and correct predictions from a predictions frame
    (read from ``path``). ``label``/``pred`` may be class names or class indices."""
    index = {c: i for i, c in enumerate(classes)}
    clusters: dict[str, dict[str, list[int]]] = {}
    for speaker, label, pred in df.select("speaker", "label", "pred").iter_rows():
        label_i = label if isinstance(label, int) else index.get(str(label))
        if label_i is None or not 0 <= label_i < len(classes):
            raise SchemaError(str(path), "label",
                              f"label {label!r} is not one of the record's classes {classes}.")
        slot = clusters.setdefault(str(speaker), {"n": [0] * len(classes),
                                                  "correct": [0] * len(classes)})
        slot["n"][label_i] += 1
        pred_i = pred if isinstance(pred, int) else index.get(str(pred))
        slot["correct"][label_i] += int(pred_i == label_i)
    return {"by": "speaker", "classes": list(classes), "clusters": dict(sorted(clusters.items()))}


def prediction_confusion(df: Any, classes: list[str]) -> dict[str, Any]:
    """The pooled confusion matrix of a predictions frame: ``matrix[i][j]`` counts test
    utterances of class ``classes[i]`` predicted as ``classes[j]`` (labels checked by
    :func:`prediction_counts` first)."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = [[0] * len(classes) for _ in classes]
    for label, pred in df.select("label", "pred").iter_rows():
        label_i = label if isinstance(label, int) else index[str(label)]
        pred_i = pred if isinstance(pred, int) else index.get(str(pred))
        if pred_i is not None and 0 <= pred_i < len(classes):
            matrix[label_i][pred_i] += 1
    return {"classes": list(classes), "matrix": matrix}


def _excluded(feature: Mapping[str, Any]) -> dict[str, Any]:
    """``excluded_hash`` and ``n_excluded`` of a run that evaluated fewer utterances
    because the feature extractor excluded some (absent for a clean run)."""
    if not feature.get("excluded_hash"):
        return {}
    return {"excluded_hash": feature["excluded_hash"],
            "n_excluded": len(feature.get("excluded") or {})}


def record_sha256(record: Mapping[str, Any]) -> str:
    """Content hash of a record (key order and whitespace do not matter)."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entry_from_record(record: Mapping[str, Any], *, benchmark: str,
                      predictions: Path | None = None) -> dict[str, Any]:
    """Build a schema-:data:`SCHEMA_VERSION` leaderboard entry from a validated run record."""
    corpus, protocol = record["corpus"], record["protocol"]
    feature, model, timing = record["feature"], record["model"], record["timing"]
    classes = list(corpus["classes"])
    frame = read_predictions(predictions) if predictions else None
    return {
        "schema_version": SCHEMA_VERSION,
        "benchmark": benchmark,
        "run_id": record["run_id"],
        "record_sha256": record_sha256(record),
        "created": record.get("created"),
        "added": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "serbench_version": record.get("serbench_version"),
        "git_commit": record.get("git_commit"),
        "corpus": {k: corpus.get(k) for k in ("name", "version", "fingerprint", "label_map",
                                              "classes", "n_utterances", "n_speakers")},
        "protocol": {**{k: protocol.get(k) for k in ("name", "version", "options", "split_hash",
                                                     "n_folds", "speaker_independent", "note")},
                     "test_hash": partition_hash(record, frame)},
        "feature": {**{k: feature.get(k) for k in ("name", "version", "params", "normalisation")},
                    **_excluded(feature)},
        "model": {k: model.get(k) for k in ("name", "version", "variant", "hyperparameters",
                                            "distribution", "distribution_version",
                                            "n_parameters", "citation")},
        "seed": int(record["training"]["seed"]),
        "tuning": record.get("tuning"),
        "folds": [{"name": str(f["name"]), "n_test": f.get("n_test"),
                   "metrics": _scalars(f["metrics"])} for f in record["folds"]],
        "aggregate": {
            "mean": _scalars(record["aggregate"]["mean"]),
            "std": _scalars(record["aggregate"]["std"]),
            "pooled": _scalars(record["aggregate"]["pooled"]),
        },
        "timing": {k: timing.get(k) for k in (
            "clock", "device", "device_name", "train_seconds_per_epoch", "inference_latency_ms",
            "throughput_utt_per_s", "n_parameters", "peak_memory_mb", "peak_memory_kind",
            "precision")},
        "counts": prediction_counts(frame, classes, predictions) if frame is not None else None,
        # absent in entries added before confusion matrices were kept
        "confusion": prediction_confusion(frame, classes) if frame is not None else None,
        # the run's own one-class flag (docs/run-record.md); None for older records
        "single_class": record.get("single_class"),
    }
