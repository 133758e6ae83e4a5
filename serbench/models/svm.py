"""``svm``: the classic SER baseline, an RBF support-vector machine on functionals.

A scikit-learn Pipeline: ``StandardScaler`` (fitted inside ``fit``, i.e. on the training
fold only) followed by ``SVC(kernel="rbf", C=1, class_weight="balanced")``. Probability
calibration is off (it would run an internal cross-validation); scores are the SVC's
one-vs-rest ``decision_function``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from serbench.data.batch import InputSpec

#: Architecture keys the builder reads; anything else in hparams is ignored.
SVM_KEYS = ("C", "kernel", "gamma", "class_weight")


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> Any:
    """Build the (unfitted) pipeline.

    Args:
        spec: the input spec (functionals of ``spec.feature_dim`` dimensions).
        hparams: ``C`` (penalty), ``kernel`` (``rbf``, ``linear``, ...), ``gamma``
            (``"scale"``, ``"auto"`` or a float), ``class_weight`` (``"balanced"`` or None).
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    gamma = hparams.get("gamma", "scale")
    return Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "svc",
                SVC(
                    C=float(hparams.get("C", 1.0)),
                    kernel=str(hparams.get("kernel", "rbf")),
                    gamma=gamma if isinstance(gamma, str) else float(gamma),
                    class_weight=hparams.get("class_weight", "balanced"),
                    decision_function_shape="ovr",
                ),
            ),
        ]
    )


def search_space() -> dict[str, Any]:
    """Log-uniform ranges for ``C`` and ``gamma`` (the usual RBF-SVM grid, made continuous)."""
    from optuna.distributions import FloatDistribution

    return {
        "C": FloatDistribution(1e-3, 1e3, log=True),
        "gamma": FloatDistribution(1e-5, 1e-1, log=True),
    }
