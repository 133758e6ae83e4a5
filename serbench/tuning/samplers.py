"""Samplers and pruners by name (``--sampler``, ``--pruner``).

Samplers: ``tpe`` (default; multivariate, constant liar so parallel workers spread out),
``random``, ``cmaes`` (single objective only) and ``grid``
(Optuna's GridSampler over a named grid of the model, e.g. ar_gru's ``alpha_beta``).
Pruners: ``median`` (default), ``hyperband`` and ``none``; multi-objective studies are
never pruned (Optuna cannot compare vectors step by step).

Seeds (:func:`sampler_seed`): each process that opens a study seeds its sampler from
``--seed``, the study's name and the number of trials the study already holds when the
process joins it. A resumed study therefore draws new points instead of replaying the
first process's random start-up points, while the same command on a fresh study is
reproducible. Workers sharing a study through ``--storage`` also mix in their host and
process id, since two of them may join at the same trial count.
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


def sampler_seed(seed: int, study: str, joined_at: int, shared: bool) -> int:
    """The sampler seed of one process joining ``study``.

    Args:
        seed: the run's ``--seed``.
        study: the study name.
        joined_at: trials (of any state) in the study when this process opened it: 0 for
            a fresh study, more on every resume, so no two resumes share a seed.
        shared: the study lives in a ``--storage`` other workers may use at the same
            time; host and process id are mixed in.
    Returns:
        a seed in ``[0, 2**31)``.
    """
    key = f"{seed}-{study}-{joined_at}"
    if shared:
        key += f"-{os.uname().nodename}-{os.getpid()}"
    return zlib.crc32(key.encode()) & 0x7FFFFFFF


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
