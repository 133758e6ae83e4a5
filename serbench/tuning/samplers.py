"""Samplers and pruners by name (``--sampler``, ``--pruner``).

Samplers: ``tpe`` (default; multivariate, constant liar so parallel workers spread out),
``random``, ``cmaes`` (single objective only) and ``grid``
(Optuna's GridSampler over a named grid of the model, e.g. ar_gru's ``alpha_beta``).
Pruners: ``median`` (default), ``hyperband`` and ``none``; multi-objective studies are
never pruned (Optuna cannot compare vectors step by step).

Seeds: the sampler is seeded from ``--seed`` so a single worker is reproducible. Workers
sharing a study through ``--storage`` mix their process id into the seed, otherwise
every worker would draw the same random start-up points.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from serbench.errors import ConfigError

SAMPLERS = ("tpe", "random", "cmaes", "grid")
PRUNERS = ("median", "hyperband", "none")


def sampler_seed(seed: int, shared: bool) -> int:
    """``seed`` on a private study; mixed with host and pid for shared storages."""
    if not shared:
        return seed
    return zlib.crc32(f"{seed}-{os.uname().nodename}-{os.getpid()}".encode()) & 0x7FFFFFFF


def make_sampler(name: str, *, seed: int, n_objectives: int,
                 grid: Mapping[str, Sequence[Any]] | None = None) -> optuna.samplers.BaseSampler:
    """The sampler ``name``; ``grid`` is required for (and only used by) ``grid``."""
    if name not in SAMPLERS:
        raise ConfigError(f"--sampler {name!r}: choose one of {', '.join(SAMPLERS)}")
    if name == "grid":
        if not grid:
            raise ConfigError("--sampler grid needs a named grid (--grid NAME)")
        return optuna.samplers.GridSampler({k: list(v) for k, v in grid.items()}, seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        if n_objectives > 1:
            raise ConfigError("--sampler cmaes handles one objective only; use tpe or random")
        try:
            import cmaes  # noqa: F401
        except ModuleNotFoundError:
            raise ConfigError("--sampler cmaes needs the 'cmaes' package: pip install cmaes "
                              "(or use --sampler tpe)") from None
        return optuna.samplers.CmaEsSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)


def make_pruner(name: str, *, max_steps: int) -> optuna.pruners.BasePruner:
    """The pruner ``name``; ``max_steps`` bounds Hyperband's resource (epochs x splits)."""
    if name not in PRUNERS:
        raise ConfigError(f"--pruner {name!r}: choose one of {', '.join(PRUNERS)}")
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(max_steps, 3))
    # wait for a few complete trials and two epochs before judging a trial
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
