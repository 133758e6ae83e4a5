"""RLC's declarative Optuna search space (names are keys of ``serbench_rlc.plugin.DEFAULTS``)."""

from __future__ import annotations

from typing import Any


def search_space() -> dict[str, Any]:
    """Learning rate, dropouts, attention heads r, GCA-LSTM iterations I.

    Not the LSTM size: every variant balances ``hidden_size`` to Table 2's parameter
    count (``params``), so a sampled width would be overridden.
    """
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    return {
        "lr": FloatDistribution(1e-4, 3e-3, log=True),
        "conv_dropout": FloatDistribution(0.0, 0.5),
        "dropout": FloatDistribution(0.0, 0.6),
        "heads": CategoricalDistribution([1, 2, 4, 8]),
        "iterations": IntDistribution(1, 5),
    }
