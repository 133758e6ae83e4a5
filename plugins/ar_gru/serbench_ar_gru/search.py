"""The declarative Optuna search space of ``ar_gru`` (``ModelSpec.search_space``).

AReLU's initial ``alpha`` and ``beta`` and the clamp floor (eq. 1) are what the paper
tuned by hand and names as its next step ("an extensive grid-search for optimal values of
alpha and beta"); hidden size, learning rate and dropout are IAAN's main knobs. The space
holds every value of Table 1: alpha 0 (variant II), 0.01 and 0.9; beta -4 to 2; the clamp
floor 0.01 and variant II's 0 (with the floor at 0.01 an alpha of 0 acts as 0.01); and
IAAN's defaults (128 units, lr 1e-4, dropout 0.1). ``alpha`` is categorical over the
``alpha_beta`` grid's values plus 0: a log scale cannot reach 0, a uniform one would
rarely sample the small values Table 1 favours. The alpha x beta grid is
``ModelSpec.grids["alpha_beta"]`` in :mod:`serbench_ar_gru.plugin`.
"""

from __future__ import annotations

from typing import Any

#: alpha's choices: Table 1's 0 (variant II), 0.01 and 0.9, and the grid's values.
ALPHAS = (0.0, 0.01, 0.05, 0.1, 0.3, 0.6, 0.9)


def search_space() -> dict[str, Any]:
    """``{hyperparameter: optuna distribution}`` for ``serbench tune --model ar_gru``."""
    from optuna.distributions import (  # lazy: listing plugins must stay light
        CategoricalDistribution,
        FloatDistribution,
    )

    return {
        "alpha": CategoricalDistribution(ALPHAS),
        "alpha_floor": CategoricalDistribution((0.0, 0.01)),
        "beta": FloatDistribution(-4.0, 4.0),
        "hidden_size": CategoricalDistribution((32, 64, 128, 256)),
        "lr": FloatDistribution(1e-5, 1e-3, log=True),
        "dropout": FloatDistribution(0.0, 0.5),
    }
