"""Declarative Optuna search spaces of ``a_lstm`` and ``alstm_dnn``.

For the RNN: the look-back set T (the paper fixed three steps after pilot runs) and how
often the states are combined, the recurrent width and the usual training knobs. For
the DNN: the widths the paper chose and SGD's step.
"""

from __future__ import annotations

from typing import Any


def rnn_search_space() -> dict[str, Any]:
    """``{hyperparameter: optuna distribution}`` for ``serbench tune --model a_lstm``."""
    from optuna.distributions import (  # lazy: listing plugins must stay light
        CategoricalDistribution,
        FloatDistribution,
    )

    return {
        # Optuna's categorical choices must be scalars: T is a "5,3,1" string.
        "time_steps": CategoricalDistribution(("3,2,1", "5,3,1", "7,4,1", "9,5,1")),
        "combine_every": CategoricalDistribution((None, 1, 2, 3, 5)),
        "hidden_size": CategoricalDistribution((64, 128, 256)),
        "dropout": FloatDistribution(0.0, 0.6),
        "lr": FloatDistribution(1e-4, 3e-3, log=True),
    }


def dnn_search_space() -> dict[str, Any]:
    """``{hyperparameter: optuna distribution}`` for ``serbench tune --model alstm_dnn``."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {
        "task_units": CategoricalDistribution((512, 1024, 2048)),
        "dropout": FloatDistribution(0.2, 0.6),
        "lr": FloatDistribution(1e-3, 1e-1, log=True),
    }
