"""Fitting a score fusion on one fold's validation predictions, and when not to.

Methods: FoCal's linear fusion (:class:`LinearFusion`, one weight per system and one
offset per class), scikit-learn's multinomial logistic regression (``logreg``, every
system x class score), and the equal-weight average (:class:`EqualWeights`, nothing
fitted), which is also the fallback when the validation split is too small.

Why a minimum per class (:data:`MIN_PER_CLASS` = 30): a fitted fusion's per-class
offset ``beta_c`` is, in effect, a log-odds estimated from the N validation utterances,
with a standard error of about ``1 / sqrt(N p (1 - p))`` nats for a class of share p.
With 4 balanced classes that is ~0.47 nats at 6 utterances per class (N = 24: enough to
flip the decisions of two near-chance systems whose scores differ by less, which is how
such offsets once lifted two chance-level systems to 39% UA) and ~0.21 nats at 30 per
class, below the score margins of a system that has learnt something. 30 is also the
usual rule of thumb for the normal approximation behind that error to hold. Below it, the
fusion falls back to the equal-weight average (or refuses, ``on_small="error"``) and the
record says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from serbench.errors import ConfigError

#: fewest validation utterances of each class a fitted fusion needs (module docstring)
MIN_PER_CLASS = 30
METHODS = ("linear", "logreg", "average")
ON_SMALL = ("average", "error")


class LinearFusion:
    """FoCal's multi-class linear fusion: ``s_c = sum_k alpha_k x_{k,c} + beta_c``.

    One weight per system and one offset per class (K + C parameters), fitted by
    minimising the multi-class cross-entropy (logistic regression with tied weights)
    plus ``1 / (2 C N)`` times the squared norm of the parameters (from 1/K, 0).
    Exposes scikit-learn's ``fit``/``predict``/``predict_proba``/``classes_``/``coef_``/
    ``intercept_``. Inputs ``x``: (N, K * C), system k's scores in columns k*C..(k+1)*C.
    """

    def __init__(self, num_classes: int, C: float = 1.0):
        self.num_classes, self.C = num_classes, C

    def _scores(self, x: np.ndarray, params: np.ndarray) -> np.ndarray:
        k = x.shape[1] // self.num_classes
        alpha, beta = params[:k], params[k:]
        blocks = x.reshape(len(x), k, self.num_classes)
        return np.einsum("nkc,k->nc", blocks, alpha) + beta

    def fit(self, x: np.ndarray, y: np.ndarray) -> LinearFusion:
        from scipy.optimize import minimize
        from scipy.special import logsumexp

        k = x.shape[1] // self.num_classes
        start = np.concatenate([np.full(k, 1.0 / k), np.zeros(self.num_classes)])
        lam = 1.0 / (self.C * len(y))

        def loss(params: np.ndarray) -> float:
            z = self._scores(x, params)
            nll = float(np.mean(logsumexp(z, axis=1) - z[np.arange(len(y)), y]))
            return nll + 0.5 * lam * float(np.sum((params - start) ** 2))

        params = minimize(loss, start, method="L-BFGS-B").x
        self.coef_, self.intercept_ = params[:k], params[k:]
        self.classes_ = np.arange(self.num_classes)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """x: (N, K * C) -> (N, C) fused probabilities."""
        from scipy.special import softmax

        return softmax(self._scores(x, np.concatenate([self.coef_, self.intercept_])), axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(1)


class EqualWeights(LinearFusion):
    """The equal-weight average of the systems' scores (alpha_k = 1/K, beta_c = 0):
    nothing is fitted, so nothing can be fitted to noise."""

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> EqualWeights:
        k = x.shape[1] // self.num_classes
        self.coef_, self.intercept_ = np.full(k, 1.0 / k), np.zeros(self.num_classes)
        self.classes_ = np.arange(self.num_classes)
        return self


def class_counts(valid_y: np.ndarray, classes: Sequence[str]) -> dict[str, int]:
    """Validation utterances per class name (every class, zeros included)."""
    counts = np.bincount(np.asarray(valid_y, dtype=np.int64), minlength=len(classes))
    return {c: int(n) for c, n in zip(classes, counts, strict=True)}


def fit_fold(valid_x: np.ndarray, valid_y: np.ndarray, test_x: np.ndarray,
             classes: Sequence[str], *, C: float = 1.0, method: str = "linear",
             min_per_class: int = MIN_PER_CLASS, on_small: str = "average",
             where: str = "") -> tuple[np.ndarray, Any, dict[str, Any]]:
    """Fit the fusion on one fold's validation scores and score its test utterances.

    Args:
        valid_x: (N_valid, K * C) system scores; valid_y: (N_valid,) class indices.
        test_x: (N_test, K * C).
        classes: the C class names.
        method: ``linear`` (:class:`LinearFusion`), ``logreg`` (scikit-learn, more
            parameters, needs more data) or ``average`` (:class:`EqualWeights`).
        min_per_class: below this many validation utterances in some class, a fitted
            method is not fitted (see the module docstring).
        on_small: ``average`` (fall back to :class:`EqualWeights`) or ``error``.
        where: the fold, for messages.
    Returns:
        (test probabilities (N_test, C), the fusion model, the fold's ``fusion`` report:
        ``method`` used, ``requested``, ``n_fit``, ``n_fit_per_class``, ``min_per_class``,
        ``fallback`` (the reason, or None)).
    Raises:
        ConfigError: an unknown method, or a small validation split with ``on_small="error"``.
    """
    from sklearn.linear_model import LogisticRegression

    from serbench.training.sklearn_runner import scores_of

    if method not in METHODS:
        raise ConfigError(f"fusion method {method!r}: choose one of {', '.join(METHODS)}")
    if on_small not in ON_SMALL:
        raise ConfigError(f"on_small {on_small!r}: choose one of {', '.join(ON_SMALL)}")
    counts = class_counts(valid_y, classes)
    report: dict[str, Any] = {"requested": method, "method": method, "n_fit": int(len(valid_y)),
                              "n_fit_per_class": counts, "min_per_class": int(min_per_class),
                              "fallback": None}
    small = {c: n for c, n in counts.items() if n < min_per_class}
    if method != "average" and small:
        reason = (f"{where or 'a fold'}: the validation split has fewer than {min_per_class} "
                  "utterances of " + ", ".join(f"{c} ({n})" for c, n in small.items()))
        if on_small == "error":
            raise ConfigError(
                f"{reason}; a {method} fusion fitted on it can invent gains. Use a protocol "
                "with larger validation splits (protocol option valid_fraction), lower the "
                "minimum with --min-per-class (at your own risk), or fall back to the "
                "equal-weight average with --on-small average.")
        report.update(method="average", fallback=f"{reason}: equal-weight average, not fitted")
    num_classes = len(classes)
    if report["method"] != "average" and len(np.unique(valid_y)) < 2:
        raise ConfigError(
            f"{where or 'a fold'}: the validation split holds a single class; the fusion "
            "cannot be fitted on it. Use a protocol with larger validation splits (protocol "
            "option valid_fraction).")
    if report["method"] == "average":
        model: Any = EqualWeights(num_classes).fit(valid_x)
    else:
        model = (LinearFusion(num_classes, C=C) if method == "linear"
                 else LogisticRegression(C=C, max_iter=5000))
        model.fit(valid_x, valid_y)
    return scores_of(model, test_x, num_classes), model, report
