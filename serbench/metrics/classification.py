"""The built-in classification metrics, on integer class indices (scikit-learn underneath).

Classes absent from a fold's test set: ``ua`` averages recall over the classes present in
``y_true`` only (as ``sklearn.metrics.balanced_accuracy_score`` does), so a fold is not
penalised for a class it cannot contain. ``macro_f1`` and ``macro_precision`` average over
the classes present in ``y_true`` or ``y_pred`` (scikit-learn's default label set, with
``zero_division=0``): predicting a class that is not in the test set costs precision.
``per_class_recall`` gives ``None`` (JSON ``null``) for a class absent from ``y_true``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)


def ua(y_true: np.ndarray, y_pred: np.ndarray, *, classes: Sequence[str],
       scores: np.ndarray | None = None) -> float:
    """Unweighted accuracy (UA = UAR): mean recall over the classes present in ``y_true``."""
    present = np.unique(y_true)
    return float(recall_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def wa(y_true: np.ndarray, y_pred: np.ndarray, *, classes: Sequence[str],
       scores: np.ndarray | None = None) -> float:
    """Weighted accuracy (WA): the share of utterances classified correctly."""
    return float(accuracy_score(y_true, y_pred))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, *, classes: Sequence[str],
             scores: np.ndarray | None = None) -> float:
    """Unweighted mean of per-class F1 over classes in ``y_true`` or ``y_pred``."""
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def macro_precision(y_true: np.ndarray, y_pred: np.ndarray, *, classes: Sequence[str],
                    scores: np.ndarray | None = None) -> float:
    """Unweighted mean of per-class precision over classes in ``y_true`` or ``y_pred``."""
    return float(precision_score(y_true, y_pred, average="macro", zero_division=0))


def per_class_recall(y_true: np.ndarray, y_pred: np.ndarray, *, classes: Sequence[str],
                     scores: np.ndarray | None = None) -> dict[str, float | None]:
    """``{class: recall}`` for every class; ``None`` where the class is absent from ``y_true``."""
    recalls = recall_score(
        y_true, y_pred, labels=np.arange(len(classes)), average=None, zero_division=0
    )
    present = set(np.unique(y_true).tolist())
    return {
        name: (float(recalls[i]) if i in present else None) for i, name in enumerate(classes)
    }


def confusion(y_true: np.ndarray, y_pred: np.ndarray, *, classes: Sequence[str],
              scores: np.ndarray | None = None) -> list[list[int]]:
    """Confusion matrix (C x C counts): row = true class, column = predicted, in ``classes`` order."""
    matrix = confusion_matrix(y_true, y_pred, labels=np.arange(len(classes)))
    return [[int(v) for v in row] for row in matrix]
