"""The declarative Optuna search space of ``ar_gru`` (``ModelSpec.search_space``).

AReLU's initial ``alpha`` and ``beta`` (eq. 1) are what the paper tuned by hand and
names as its next step ("an extensive grid-search for optimal values of alpha and
beta"); hidden size, learning rate and dropout are IAAN's main knobs. The ranges hold
every value of Table 1 (alpha 0.01 and 0.9, beta -4 to 2) and IAAN's defaults
(128 units, lr 1e-4, dropout 0.1). The alpha x beta grid is ``ModelSpec.grids
["alpha_beta"]`` in :mod:`serbench_ar_gru.plugin`.
"""

from __future__ import annotations

from typing import Any


def search_space() -> dict[str, Any]:
    """``{hyperparameter: optuna distribution}`` for ``serbench tune --model ar_gru``."""
    from optuna.distributions import (  # lazy: listing plugins must stay light
        CategoricalDistribution,
        FloatDistribution,
    )

    return {
        # alpha is clamped into [0.01, 0.99] by eq. 1's C, so search inside that range.
        "alpha": FloatDistribution(0.01, 0.99, log=True),
        "beta": FloatDistribution(-4.0, 4.0),
        "hidden_size": CategoricalDistribution((32, 64, 128, 256)),
        "lr": FloatDistribution(1e-5, 1e-3, log=True),
        "dropout": FloatDistribution(0.0, 0.5),
    }
