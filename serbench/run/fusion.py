"""Score-level fusion of two finished runs (``serbench fuse RUN_A RUN_B``).

The A-LSTM paper (Tao and Liu, ICASSP 2018, Table 2) fused an RNN and a DNN with FoCal
(Brümmer), i.e. multi-class logistic regression on the systems' scores. Here, per
fold: the two runs' emotion scores of the fold's *validation* utterances (saved by the
run pipeline in ``valid_predictions.parquet``), as per-system log-probabilities (raw
scores where a run's scores are not probabilities), train a calibrated logistic
regression: by default FoCal's linear fusion (:class:`LinearFusion`, one weight per
system and one offset per class), or with ``method="logreg"`` scikit-learn's
:class:`~sklearn.linear_model.LogisticRegression` on all system x class inputs. Its
probabilities on the fold's test utterances are the fused scores. Test labels are only
used to score the result, exactly as in a run. A fold whose validation split has fewer
than ``min_per_class`` utterances of some class (default 30, justified in
:mod:`serbench.run.fusion_fit`) is not fitted: it falls back to the equal-weight average,
or with ``on_small="error"`` the fusion is refused. Each fold's ``fusion`` entry records
the validation size per class and the method actually used.

The two runs must share the corpus (fingerprint and label map) and the protocol's folds
(split hash): the same utterances are then validation and test utterances in both. The
result is written as a run folder like any other (``record.json``, ``predictions.parquet``,
``folds/``) whose model is ``fusion`` with variant ``<run A's model>+<run B's model>``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from serbench import paths
from serbench.errors import ConfigError
from serbench.run.folder import RunFolder, _json_default, atomic_write_json, atomic_write_parquet
from serbench.run.fusion_fit import (
    METHODS,
    MIN_PER_CLASS,
    ON_SMALL,
    EqualWeights,
    LinearFusion,
    fit_fold,
)
from serbench.run.predictions import fold_predictions, score_matrix
from serbench.run.record import SCHEMA_VERSION, now_iso

__all__ = ["EqualWeights", "LinearFusion", "MIN_PER_CLASS", "check_compatible", "fit_fold",
           "fuse_runs", "system_features"]

#: 2: below ``min_per_class`` validation utterances of a class, the equal-weight average
FUSION_VERSION = 2
#: probabilities are floored before the log so that a zero score stays finite
PROB_FLOOR = 1e-7


def _label(record: Mapping[str, Any]) -> str:
    model = record["model"]
    return model["name"] + (f"-{model['variant']}" if model.get("variant") else "")


def check_compatible(a: Mapping[str, Any], b: Mapping[str, Any]) -> None:
    """Both records must describe the same utterances, classes and folds."""
    problems = []
    for key in ("fingerprint", "label_map", "classes"):
        if a["corpus"].get(key) != b["corpus"].get(key):
            problems.append(f"corpus.{key}: {a['corpus'].get(key)!r} vs {b['corpus'].get(key)!r}")
    if a["protocol"].get("split_hash") != b["protocol"].get("split_hash"):
        problems.append(
            f"protocol: {a['protocol']['name']} (split {a['protocol'].get('split_hash')}) vs "
            f"{b['protocol']['name']} (split {b['protocol'].get('split_hash')})"
        )
    if problems:
        raise ConfigError(
            f"runs {a['run_id']} and {b['run_id']} cannot be fused: they differ in "
            + "; ".join(problems)
            + ". Fuse runs made on the same corpus, label map, protocol and seed (e.g. "
            "`serbench reproduce` runs, or `serbench run` with the same --label-map, "
            "--protocol and --seed)."
        )


def system_features(scores: np.ndarray) -> np.ndarray:
    """(N, C) scores -> (N, C) fusion inputs: log-probabilities when every row is a
    probability vector (softmax / predict_proba), else the raw scores (decision values)."""
    scores = np.asarray(scores, dtype=np.float64)
    is_prob = scores.size and scores.min() >= 0 and np.allclose(scores.sum(1), 1.0, atol=1e-3)
    return np.log(np.clip(scores, PROB_FLOOR, 1.0)) if is_prob else scores


def _read_split(folder: RunFolder, split: str) -> pl.DataFrame:
    path = folder.valid_predictions_path if split == "valid" else folder.predictions_path
    if not path.is_file():
        hint = (
            "it was made before serbench saved validation predictions, by a model "
            "without a validation split, or by a scikit-learn model fitted on train + "
            "valid; re-run it with --force (scikit-learn models: --set fit_on_valid=false)"
            if split == "valid" else "the run is not complete; finish it with --resume"
        )
        raise ConfigError(f"run {folder.run_id} has no {path.name} ({hint}).")
    return pl.read_parquet(path)


def _aligned(frame: pl.DataFrame, fold: str, ids: Sequence[str], classes: Sequence[str],
             run_id: str, split: str) -> np.ndarray:
    """Scores (N, C) of ``ids`` in that order, from one run's predictions of one fold."""
    part = frame.filter(pl.col("fold") == fold)
    order = {u: i for i, u in enumerate(part["utt_id"].to_list())}
    missing = [u for u in ids if u not in order]
    if missing or len(order) != len(ids):
        raise ConfigError(
            f"run {run_id}, fold {fold!r}: its {split} utterances differ from the other run's "
            f"({len(order)} vs {len(ids)}; e.g. {missing[:3]}); fuse runs with the same folds."
        )
    scores = score_matrix(part[[order[u] for u in ids]], classes)
    if scores is None:
        raise ConfigError(f"run {run_id}, fold {fold!r}: the {split} predictions have no scores")
    return scores


def fuse_runs(run_a: RunFolder, run_b: RunFolder, *, out: Path | None = None,
              runs_dir: Path | None = None, C: float = 1.0, method: str = "linear",
              min_per_class: int = MIN_PER_CLASS, on_small: str = "average",
              force: bool = False, command: Sequence[str] | None = None) -> dict[str, Any]:
    """Fuse two complete runs fold by fold and write the fused run; returns its record.

    Args:
        run_a, run_b: the run folders (each with record.json and valid_predictions.parquet).
        out: the fused run's folder (default ``<runs_dir>/<run_id>``).
        runs_dir: root of run folders (default ``SERBENCH_RUNS``).
        C: inverse L2 strength of the logistic regression.
        method: ``linear`` (FoCal's linear fusion), ``logreg`` or ``average`` (see
            :func:`serbench.run.fusion_fit.fit_fold`).
        min_per_class: a fold whose validation split has fewer utterances of some class
            is not fitted (:data:`~serbench.run.fusion_fit.MIN_PER_CLASS`, justified there).
        on_small: then ``average`` (the equal-weight average, said in the fold's
            ``fusion`` entry) or ``error`` (refuse, before anything is written).
        force: replace an existing fused run folder.
        command: the command line to record.
    """
    from serbench.metrics.api import aggregate, compute_metrics
    from serbench.run.environment import git_commit, library_versions, serbench_version
    from serbench.run.predictions import label_indices
    from serbench.run.record import aggregate_timing

    records = []
    for folder in (run_a, run_b):
        if not folder.is_complete():
            raise ConfigError(f"run {folder.run_id} is not complete (no record.json); finish "
                              "it with `serbench run ... --resume` first.")
        records.append(folder.read_record())
    a, b = records
    check_compatible(a, b)
    classes = list(a["corpus"]["classes"])
    if method not in METHODS:
        raise ConfigError(f"fusion method {method!r}: choose one of {', '.join(METHODS)}")
    if on_small not in ON_SMALL:
        raise ConfigError(f"on_small {on_small!r}: choose one of {', '.join(ON_SMALL)}")
    ident = {"fusion": {"version": FUSION_VERSION, "method": method, "C": C,
                        "min_per_class": min_per_class, "on_small": on_small},
             "runs": [a["run_id"], b["run_id"]]}
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:8]
    run_id = (f"fusion-{a['corpus']['name']}-{a['protocol']['name']}-"
              f"s{a['training']['seed']}-{digest}")
    root = Path(out) if out is not None else Path(runs_dir or paths.runs_dir()) / run_id
    target = RunFolder(root)
    if (target.exists() or target.is_complete()) and not force:
        raise ConfigError(f"{root} already holds a run; use --force to replace it, or -o "
                          "to write elsewhere.")
    valid = [_read_split(f, "valid") for f in (run_a, run_b)]
    test = [_read_split(f, "test") for f in (run_a, run_b)]
    index = {c: i for i, c in enumerate(classes)}
    entries, frames = [], []
    folds_b = {f["name"]: f for f in b["folds"]}
    for fold_a in a["folds"]:
        name = fold_a["name"]
        if name not in folds_b:
            raise ConfigError(f"run {b['run_id']} has no fold {name!r}; fuse runs with the same folds")
        valid_rows = valid[0].filter(pl.col("fold") == name)
        valid_ids = valid_rows["utt_id"].to_list()
        test_rows = test[0].filter(pl.col("fold") == name)
        test_ids = test_rows["utt_id"].to_list()
        vx = np.hstack([system_features(_aligned(v, name, valid_ids, classes, r["run_id"], "valid"))
                        for v, r in zip(valid, records, strict=True)])
        tx = np.hstack([system_features(_aligned(t, name, test_ids, classes, r["run_id"], "test"))
                        for t, r in zip(test, records, strict=True)])
        vy = np.array([index[c] for c in valid_rows["label"].to_list()], dtype=np.int64)
        ty = np.array([index[c] for c in test_rows["label"].to_list()], dtype=np.int64)
        start = time.perf_counter()
        probs, model, report = fit_fold(vx, vy, tx, classes, C=C, method=method,
                                        min_per_class=min_per_class, on_small=on_small,
                                        where=f"fold {name!r}")
        seconds = time.perf_counter() - start
        pred = probs.argmax(-1)
        outcome = _Outcome(test_ids, ty, pred, probs)
        frame = fold_predictions(name, outcome, _speakers(test_rows), classes)
        metrics = compute_metrics(ty, pred, classes, scores=probs)
        entry = {k: fold_a.get(k) for k in ("name", "n_train", "n_valid", "n_test",
                                            "train_speakers", "valid_speakers", "test_speakers")}
        ta, tb = fold_a.get("timing") or {}, folds_b[name].get("timing") or {}
        entry.update({
            "metrics": metrics, "best_epoch": None, "epochs_run": 0, "stopped_early": False,
            "curve": [], "timing": _fold_timing(ta, tb, seconds, model),
            "fusion": {**report, "coef": model.coef_.tolist(),
                       "intercept": model.intercept_.tolist()},
        })
        entries.append(entry)
        frames.append(frame)
    # written only now: a refused fold (on_small="error") leaves nothing behind
    if target.exists() or target.is_complete():
        target.clear()
    target.write_config({"run_id": run_id, "identity": ident, "created": now_iso()})
    for entry, frame in zip(entries, frames, strict=True):
        target.write_fold(entry, frame)
    predictions = pl.concat(frames)
    y_true, y_pred = label_indices(predictions, classes)
    scores = score_matrix(predictions, classes)
    summary = aggregate([e["metrics"] for e in entries], y_true, y_pred, classes,
                        scores_all=scores)
    timing = aggregate_timing(entries, a["timing"].get("device") or "cpu")
    from serbench.run.collapse import single_class, single_class_warnings

    collapsed = single_class(predictions, [e["name"] for e in entries])
    record = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "status": "complete",
        "created": now_iso(),
        "command": list(command) if command is not None else ["serbench", "fuse", a["run_id"],
                                                              b["run_id"]],
        "serbench_version": serbench_version(),
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "corpus": dict(a["corpus"]),
        "protocol": dict(a["protocol"]),
        "feature": {
            "name": f"{a['feature']['name']}+{b['feature']['name']}",
            "version": 1,
            "params": {a["run_id"]: a["feature"], b["run_id"]: b["feature"]},
            "level": None,
            "dim": None,
            "normalisation": f"{a['feature'].get('normalisation')}+{b['feature'].get('normalisation')}",
            "backend": None,
        },
        "model": {
            "name": "fusion",
            "version": FUSION_VERSION,
            "variant": f"{_label(a)}+{_label(b)}",
            "framework": "sklearn",
            "plugin": None,
            "distribution": "serbench",
            "distribution_version": serbench_version(),
            "hyperparameters": {"method": method, "C": C, "min_per_class": min_per_class,
                                "on_small": on_small,
                                "fell_back": [e["name"] for e in entries
                                              if e["fusion"]["fallback"]],
                                "inputs": "per-system log-probabilities (raw scores if not "
                                          "probabilities)",
                                "fitted_on": "validation predictions of each fold",
                                "runs": [a["run_id"], b["run_id"]]},
            "search_space": None,
            "n_parameters": timing["n_parameters"],
            "citation": None,
            "fused": [a["model"], b["model"]],
        },
        "training": {"seed": a["training"]["seed"], "device": "cpu", "deterministic": True,
                     "config": None},
        "tuning": None,
        "folds": entries,
        "aggregate": summary,
        "single_class": collapsed,
        "timing": timing,
        # the fused runs' data warnings hold for the fusion too (absent in older records)
        "warnings": list(dict.fromkeys([*a.get("warnings", []), *b.get("warnings", [])]))
        + single_class_warnings(collapsed, len(entries), predictions.height),
    }
    record = json.loads(json.dumps(record, default=_json_default))  # numpy -> plain JSON
    atomic_write_parquet(target.predictions_path, predictions)
    atomic_write_json(target.record_path, record)
    return record


class _Outcome:
    """The attributes :func:`fold_predictions` reads."""

    def __init__(self, utt_ids: list[str], y_true: np.ndarray, y_pred: np.ndarray,
                 scores: np.ndarray):
        self.utt_ids, self.y_true, self.y_pred, self.scores = utt_ids, y_true, y_pred, scores


def _speakers(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select("utt_id", "speaker")


def _fold_timing(ta: Mapping[str, Any], tb: Mapping[str, Any], seconds: float,
                 model: Any) -> dict[str, Any]:
    """Both systems run at inference: latencies add, parameters add, memory is the max."""

    def total(key: str) -> float | None:
        values = [t.get(key) for t in (ta, tb)]
        return None if any(v is None for v in values) else float(sum(values))

    throughputs = [t.get("throughput_utt_per_s") for t in (ta, tb)]
    throughput = (None if any(not v for v in throughputs)
                  else 1.0 / sum(1.0 / float(v) for v in throughputs))
    n_params = total("n_parameters")
    extra = int(model.coef_.size + model.intercept_.size)
    peaks = [t.get("peak_memory_mb") for t in (ta, tb) if t.get("peak_memory_mb") is not None]
    return {
        "train_seconds": seconds,
        "train_seconds_per_epoch": seconds,
        "inference_latency_ms": total("inference_latency_ms"),
        "throughput_utt_per_s": throughput,
        "n_parameters": None if n_params is None else int(n_params) + extra,
        "peak_memory_mb": max(peaks) if peaks else None,
        "peak_memory_kind": ta.get("peak_memory_kind"),
        "clock": ta.get("clock"),
        "device": ta.get("device"),
        "device_name": ta.get("device_name"),
    }
