"""scikit-learn estimators through the same fold loop as torch models.

The estimator is built by the model's builder ``(InputSpec, hparams) -> estimator``,
fitted on the fold's non-test utterances (functionals, one row each), and asked for the
test utterances' predictions. Scores come from ``predict_proba`` where the estimator
offers it, else ``decision_function``, else one-hot predictions.

An estimator with fixed hyperparameters has nothing to select on the validation split,
so by default (hyperparameter ``fit_on_valid=True``) it is fitted on train + valid, as
every classical SER pipeline does (the nEMO anchor, nkululeko): the test fold is never
seen either way. With ``fit_on_valid=False`` it is fitted on train only and scores the
validation utterances, which score fusion (``serbench fuse``) needs: fusion must be
fitted on predictions the model did not train on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from serbench.data.dataset import FeatureLookup
from serbench.errors import ConfigError


@dataclass
class SklearnResult:
    """Predictions and timings of one fitted estimator."""

    estimator: Any
    y_pred: np.ndarray
    scores: np.ndarray
    train_seconds: float


def stack_functionals(features: FeatureLookup, utt_ids: Sequence[str]) -> np.ndarray:
    """(N, D) float32 matrix of functionals vectors, in ``utt_ids`` order."""
    rows = []
    for u in utt_ids:
        if u not in features:
            raise ConfigError(
                f"utterance {u!r} has no features; extract them for the whole manifest"
            )
        v = np.asarray(features[u], dtype=np.float32)
        if v.ndim != 1:
            raise ConfigError(
                f"scikit-learn models read functionals (one vector per utterance); "
                f"{u!r} has features of shape {v.shape}. Choose a functionals feature set."
            )
        rows.append(v)
    return np.stack(rows)


def scores_of(estimator: Any, x: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, C) scores in class-index order, whatever subset of classes was seen in training."""
    seen = np.asarray(getattr(estimator, "classes_", np.arange(num_classes)), dtype=np.int64)
    if hasattr(estimator, "predict_proba"):
        raw = np.asarray(estimator.predict_proba(x), dtype=np.float64)
        fill = 0.0
    elif hasattr(estimator, "decision_function"):
        raw = np.asarray(estimator.decision_function(x), dtype=np.float64)
        if raw.ndim == 1:  # binary: the score of classes_[1]
            raw = np.stack([-raw, raw], axis=1)
        fill = float(raw.min()) - 1.0 if raw.size else 0.0
    else:
        pred = np.asarray(estimator.predict(x), dtype=np.int64)
        raw = (pred[:, None] == seen[None, :]).astype(np.float64)
        fill = 0.0
    out = np.full((x.shape[0], num_classes), fill, dtype=np.float64)
    out[:, seen] = raw
    return out


def fit_predict(
    estimator: Any,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    num_classes: int,
) -> SklearnResult:
    """Fit on the training fold, then predict the test fold."""
    import time

    if len(np.unique(y_train)) < 2:
        raise ConfigError(
            "the training fold holds a single class; a classifier needs at least two. "
            "Check the label map and the protocol's folds."
        )
    t0 = time.perf_counter()
    estimator.fit(x_train, y_train)
    train_seconds = time.perf_counter() - t0
    if len(x_test) == 0:
        return SklearnResult(
            estimator, np.zeros(0, np.int64), np.zeros((0, num_classes)), train_seconds
        )
    y_pred = np.asarray(estimator.predict(x_test), dtype=np.int64)
    return SklearnResult(
        estimator, y_pred, scores_of(estimator, x_test, num_classes), train_seconds
    )


def run_sklearn_fold(
    model: Any,
    hparams: Any,
    fold: Any,
    features: FeatureLookup,
    spec: Any,
    targets: dict[str, dict[str, np.ndarray]],
    device: Any,
) -> Any:
    """:func:`serbench.training.fold.run_fold` for ``framework="sklearn"`` models."""
    import torch

    from serbench.lazy import resolve
    from serbench.training.fold import FoldOutcome
    from serbench.training.timing import (
        count_parameters,
        device_name,
        measure_inference,
        peak_memory,
    )

    cpu = torch.device("cpu")  # scikit-learn runs on the CPU whatever --device says
    estimator = resolve(model.builder)(spec, dict(hparams))
    fit_on_valid = bool(hparams.get("fit_on_valid", True)) and bool(fold.valid)
    fit_ids = [*fold.train, *fold.valid] if fit_on_valid else list(fold.train)
    y_fit = (np.concatenate([targets["train"]["emotion"], targets["valid"]["emotion"]])
             if fit_on_valid else targets["train"]["emotion"])
    x_train = stack_functionals(features, fit_ids)
    x_test = stack_functionals(features, fold.test)
    result = fit_predict(estimator, x_train, y_fit, x_test, spec.num_classes)
    timing = measure_inference(
        lambda rows: result.estimator.predict(x_test[list(rows)]),
        len(x_test),
        batch_size=int(hparams.get("batch_size", 32)),
        device=cpu,
    )
    memory, kind = peak_memory(cpu)
    # validation scores, for validation-only score fusion (serbench fuse); only when the
    # estimator did not train on them (in-sample scores would mislead the fusion)
    x_valid = (stack_functionals(features, fold.valid)
               if fold.valid and not fit_on_valid else None)
    valid_scores = (scores_of(result.estimator, x_valid, spec.num_classes)
                    if x_valid is not None else np.zeros((0, spec.num_classes)))
    return FoldOutcome(
        utt_ids=list(fold.test),
        y_true=targets["test"]["emotion"],
        y_pred=result.y_pred,
        scores=result.scores,
        best_epoch=None,
        epochs_run=0,
        stopped_early=False,
        curve=[],
        timing={
            "train_seconds": result.train_seconds,
            "train_seconds_per_epoch": result.train_seconds,  # one fit = one "epoch"
            **timing,
            "n_parameters": count_parameters(result.estimator),
            "peak_memory_mb": memory,
            "peak_memory_kind": kind,
            "clock": "cpu_monotonic",
            "device": "cpu",
            "device_name": device_name(cpu),
        },
        padded_share=None,
        n_train=len(fit_ids),
        n_valid=0 if fit_on_valid else len(fold.valid),
        valid_utt_ids=[] if x_valid is None else list(fold.valid),
        valid_y_true=(np.zeros(0, np.int64) if x_valid is None
                      else targets["valid"]["emotion"]),
        valid_scores=valid_scores,
    )
