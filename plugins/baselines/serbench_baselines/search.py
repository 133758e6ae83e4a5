"""Declarative Optuna search spaces of the comparison systems."""

from __future__ import annotations

from typing import Any


def _common() -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {
        "lr": FloatDistribution(1e-4, 3e-3, log=True),
        "dropout": FloatDistribution(0.0, 0.6),
        "width": CategoricalDistribution([64, 128, 256, 512]),
    }


def xia_dnn_space() -> dict[str, Any]:
    """Learning rate, dropout, width, hidden layers."""
    from optuna.distributions import IntDistribution

    return {**_common(), "layers": IntDistribution(1, 4)}


def poria_cnn_space() -> dict[str, Any]:
    """Learning rate, dropout, width, kernel size."""
    from optuna.distributions import CategoricalDistribution

    return {**_common(), "kernel_size": CategoricalDistribution([3, 5, 7])}


def poria_lstm_space() -> dict[str, Any]:
    """Learning rate, dropout, width, stacked layers."""
    from optuna.distributions import IntDistribution

    return {**_common(), "layers": IntDistribution(1, 3)}
