"""A factory for run records (docs/run-record.md, schema_version 1) in leaderboard tests.

``write_run`` simulates a finished run: per-utterance predictions drawn with a given
``skill`` (probability of a correct prediction), fold and pooled metrics computed from
them with scikit-learn, and the run folder written as the run pipeline writes it
(``record.json`` + ``predictions.parquet``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

CLASSES = ["angry", "happy", "neutral", "sad"]
SPEAKERS = ["s1", "s2", "s3", "s4"]


def _metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    labels = list(range(len(CLASSES)))
    recalls = recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "ua": float(recalls.mean()),
        "wa": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro",
                                   zero_division=0)),
        "macro_precision": float(precision_score(y_true, y_pred, labels=labels,
                                                 average="macro", zero_division=0)),
        "per_class_recall": {c: float(r) for c, r in zip(CLASSES, recalls, strict=True)},
        "confusion": [[int(((y_true == i) & (y_pred == j)).sum()) for j in labels]
                      for i in labels],
    }


def make_record(*, model: str = "bilstm_att", variant: str | None = None, seed: int = 0,
                skill: float = 0.6, corpus: str = "synthetic", label_map: str = "4class",
                protocol: str = "loso-speaker", fingerprint: str = "f" * 16,
                split_hash: str = "a" * 16, speakers: Sequence[str] = SPEAKERS,
                per_class: int = 6, hyperparameters: Mapping[str, Any] | None = None,
                latency_ms: float = 2.0, n_parameters: int = 5000, clock: str = "cpu_monotonic",
                device_name: str = "Test CPU") -> tuple[dict[str, Any], pl.DataFrame]:
    """A complete run record and its predictions frame."""
    name = f"{model}{'-' + variant if variant else ''}"
    rng = np.random.default_rng(zlib.crc32(f"{name}|{seed}|{skill}".encode()))
    frames, folds = [], []
    for speaker in speakers:
        y_true = np.repeat(np.arange(len(CLASSES)), per_class)
        correct = rng.random(len(y_true)) < skill
        wrong = (y_true + rng.integers(1, len(CLASSES), len(y_true))) % len(CLASSES)
        y_pred = np.where(correct, y_true, wrong)
        utt = [f"{speaker}_{i:03d}" for i in range(len(y_true))]
        frames.append(pl.DataFrame({
            "utt_id": utt, "fold": [speaker] * len(utt), "speaker": [speaker] * len(utt),
            "label": [CLASSES[i] for i in y_true], "pred": [CLASSES[i] for i in y_pred],
            **{f"score_{c}": (y_pred == k).astype(float) for k, c in enumerate(CLASSES)},
        }))
        folds.append({
            "name": speaker, "n_train": 40, "n_valid": 8, "n_test": len(utt),
            "train_speakers": [s for s in speakers if s != speaker], "valid_speakers": [],
            "test_speakers": [speaker], "metrics": _metrics(y_true, y_pred),
            "best_epoch": 3, "epochs_run": 5, "stopped_early": False,
            "curve": [{"epoch": 1, "train_loss": 1.3, "valid_loss": 1.2, "valid_ua": 0.4,
                       "seconds": 0.1}],
            "timing": {"train_seconds": 0.5, "train_seconds_per_epoch": 0.1,
                       "inference_latency_ms": latency_ms, "throughput_utt_per_s": 1000 / latency_ms},
        })
    predictions = pl.concat(frames)
    y_true_all = np.array([CLASSES.index(c) for c in predictions["label"]])
    y_pred_all = np.array([CLASSES.index(c) for c in predictions["pred"]])
    scalar = ("ua", "wa", "macro_f1", "macro_precision")
    hp = dict(hyperparameters or {"hidden": 16, "lr": 0.001})
    run_id = f"{name}-{corpus}-{protocol}-s{seed}-{zlib.crc32(json.dumps(hp, sort_keys=True).encode()):08x}"
    record = {
        "schema_version": 1, "run_id": run_id, "status": "complete",
        "created": "2026-11-21T06:30:00+00:00", "command": ["serbench", "run", "--model", model],
        "serbench_version": "0.1.0", "git_commit": None,
        "libraries": {"python": "3.11.7"},
        "corpus": {"name": corpus, "version": 1, "fingerprint": fingerprint,
                   "label_map": label_map, "classes": CLASSES,
                   "n_utterances": len(predictions), "n_speakers": len(speakers),
                   "options": {}, "data": None},
        "protocol": {"name": protocol, "version": 1, "options": {}, "split_hash": split_hash,
                     "n_folds": len(speakers), "speaker_independent": True, "note": ""},
        "feature": {"name": "egemaps", "version": 1, "params": {}, "level": "functionals",
                    "dim": 88, "normalisation": "speaker", "backend": {}},
        "model": {"name": model, "version": 1, "variant": variant, "framework": "torch",
                  "plugin": "models", "distribution": "serbench", "distribution_version": "0.1.0",
                  "hyperparameters": hp, "search_space": None, "n_parameters": n_parameters,
                  "citation": None},
        "training": {"seed": seed, "device": "cpu", "deterministic": True, "config": hp},
        "tuning": None,
        "folds": folds,
        "aggregate": {
            "mean": {k: float(np.mean([f["metrics"][k] for f in folds])) for k in scalar},
            "std": {k: float(np.std([f["metrics"][k] for f in folds])) for k in scalar},
            "pooled": _metrics(y_true_all, y_pred_all),
        },
        "timing": {"clock": clock, "device": "cpu", "device_name": device_name,
                   "train_seconds_per_epoch": 0.1, "inference_latency_ms": latency_ms,
                   "throughput_utt_per_s": 1000 / latency_ms, "n_parameters": n_parameters,
                   "peak_memory_mb": 300.0, "peak_memory_kind": "process_rss"},
    }
    return record, predictions


def write_run(runs: Path, *, predictions: bool = True, **kwargs: Any) -> Path:
    """Write a run folder under ``runs`` (record.json [+ predictions.parquet]); returns it."""
    record, frame = make_record(**kwargs)
    folder = runs / record["run_id"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "record.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    if predictions:
        frame.write_parquet(folder / "predictions.parquet")
    return folder
