"""DRN's declarative Optuna search space (names are keys of ``serbench_drn.plugin.DEFAULTS``)."""

from __future__ import annotations

from typing import Any


def search_space() -> dict[str, Any]:
    """Learning rate, dropouts, attention heads r.

    Not the LSTM size: every variant balances ``hidden_size`` to 9.9M parameters
    (``params``), so a sampled width would be overridden.
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {
        "lr": FloatDistribution(3e-5, 1e-3, log=True),
        "conv_dropout": FloatDistribution(0.0, 0.5),
        "dropout": FloatDistribution(0.0, 0.6),
        "heads": CategoricalDistribution([1, 2, 4, 8]),
    }
