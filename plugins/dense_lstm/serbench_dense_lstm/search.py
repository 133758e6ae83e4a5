"""The declarative Optuna search space of ``dense_lstm`` (``ModelSpec.search_space``).

Table 1's knobs: the LSTM stack, the dense width, Adam's learning rate and beta2 (the
paper's unusual 0.7), the L2 penalty; plus the two readings of eq. 6's softmax axis.
The ranges hold both of Table 1's columns.
"""

from __future__ import annotations

from typing import Any


def search_space() -> dict[str, Any]:
    """``{hyperparameter: optuna distribution}`` for ``serbench tune --model dense_lstm``."""
    from optuna.distributions import (  # lazy: listing plugins must stay light
        CategoricalDistribution,
        FloatDistribution,
    )

    return {
        # Optuna's categorical choices must be scalars: the stack is a "256,256" string,
        # which the builder accepts as well as a list.
        "cells": CategoricalDistribution(("128,128", "256,256", "512,256", "256,256,256")),
        "dense_units": CategoricalDistribution((64, 128, 256)),
        "lr": FloatDistribution(1e-5, 3e-3, log=True),
        "weight_decay": FloatDistribution(1e-6, 1e-3, log=True),
        "dropout": FloatDistribution(0.0, 0.5),
        "feature_softmax": CategoricalDistribution(("feature", "time")),
    }
