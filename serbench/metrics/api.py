"""Metrics of one fold (``compute_metrics``) and across folds (``aggregate``).

Labels are integer indices into ``classes``. Scalar metrics are fractions in [0, 1].
``aggregate`` reports the mean and the sample standard deviation (``ddof=1``; 0.0 for a
single fold) of each scalar metric over folds, the per-class mean of ``per_class`` metrics
(over the folds where the class was present), and every metric recomputed on all test
utterances pooled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from serbench.errors import ConfigError
from serbench.lazy import resolve
from serbench.plugins import Registry, get_registry

#: The order metrics appear in records and tables; other registered metrics follow.
PREFERRED_ORDER = ("ua", "wa", "macro_f1", "macro_precision", "per_class_recall", "confusion")


def _as_indices(values: Any, name: str, n_classes: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ConfigError(f"{name} must be one-dimensional; got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ConfigError(f"{name} must hold integer class indices; got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= n_classes):
        raise ConfigError(
            f"{name} holds class indices outside [0, {n_classes}); got {array.min()}..{array.max()}"
        )
    return array.astype(np.int64)


def metric_names(registry: Registry | None = None) -> list[str]:
    """Registered metric names, the built-ins first in :data:`PREFERRED_ORDER`."""
    names = (registry or get_registry()).names("metric")
    first = [n for n in PREFERRED_ORDER if n in names]
    return first + [n for n in names if n not in first]


def compute_metrics(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    classes: Sequence[str],
    scores: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """Every requested metric (default: all registered) of one set of predictions.

    Args:
        y_true, y_pred: integer class indices into ``classes``, shape (N,).
        classes: class names in index order.
        scores: optional (N, C) class scores, passed to metrics that use them.
        names: metric names to compute; unknown names get a did-you-mean error.
        registry: defaults to the process-wide registry.

    Returns:
        ``{metric name: float | {class: float | None} | [[int]]}``.
    """
    registry = registry or get_registry()
    n = len(classes)
    yt = _as_indices(y_true, "y_true", n)
    yp = _as_indices(y_pred, "y_pred", n)
    if yt.shape != yp.shape:
        raise ConfigError(f"y_true has {yt.size} labels but y_pred has {yp.size}")
    if yt.size == 0:
        raise ConfigError("cannot compute metrics on zero utterances")
    if scores is not None:
        scores = np.asarray(scores)
        if scores.shape != (yt.size, n):
            raise ConfigError(f"scores must have shape ({yt.size}, {n}); got {scores.shape}")
    wanted = list(names) if names is not None else metric_names(registry)
    result: dict[str, Any] = {}
    for name in wanted:
        spec = registry.metric(name)
        result[name] = resolve(spec.fn)(yt, yp, classes=list(classes), scores=scores)
    return result


def _std(values: list[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def aggregate(
    folds: Sequence[Mapping[str, Any]],
    y_true_all: Sequence[int] | np.ndarray,
    y_pred_all: Sequence[int] | np.ndarray,
    classes: Sequence[str],
    *,
    scores_all: np.ndarray | None = None,
    names: Sequence[str] | None = None,
    registry: Registry | None = None,
) -> dict[str, dict[str, Any]]:
    """Combine per-fold metric dicts (from :func:`compute_metrics`) into one summary.

    Args:
        folds: one metrics dict per fold.
        y_true_all, y_pred_all: every fold's test labels and predictions, concatenated.
        classes: class names in index order.
        scores_all: optional concatenated (N, C) scores for the pooled metrics.
        names: metrics for the pooled part (default: all registered).

    Returns:
        ``{"mean": {...}, "std": {...}, "pooled": {...}}``; ``mean``/``std`` hold scalar
        metrics and, for per-class metrics, ``{class: mean/std or None}``; matrices are
        only pooled (summed over folds, which equals the pooled matrix).
    """
    if not folds:
        raise ConfigError("aggregate needs at least one fold's metrics")
    mean: dict[str, Any] = {}
    std: dict[str, Any] = {}
    for name in folds[0]:
        values = [fold.get(name) for fold in folds]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            mean[name] = float(np.mean(values))
            std[name] = _std([float(v) for v in values])
        elif all(isinstance(v, Mapping) for v in values):
            keys = list(values[0])
            mean[name], std[name] = {}, {}
            for key in keys:
                present = [float(v[key]) for v in values if v.get(key) is not None]
                mean[name][key] = float(np.mean(present)) if present else None
                std[name][key] = _std(present) if present else None
    pooled = compute_metrics(
        y_true_all, y_pred_all, classes, scores=scores_all, names=names, registry=registry
    )
    return {"mean": mean, "std": std, "pooled": pooled}
