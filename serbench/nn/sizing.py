"""Balancing a model to a target parameter count (``--set params=9M``).

Both RLC (IJCAI 2019) and DRN (ICASSP 2019) compare systems whose "numbers of
filters/units ... are balanced to ensure the parameters consistency". A builder that
accepts a ``params`` hyperparameter searches the width (one integer that scales its
layers) whose parameter count is closest to the target: :func:`fit_width`. Candidate
models are built on PyTorch's ``meta`` device, so the search allocates no weights.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from serbench.errors import ConfigError

_COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kKmMgG]?)\s*$")
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}


def parse_param_count(value: Any, *, name: str = "params") -> int:
    """``"9M"`` -> 9_000_000, ``"250k"`` -> 250_000, ``9.1e6`` -> 9_100_000."""
    if isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} is not a parameter count; write e.g. {name}=9M")
    if isinstance(value, int | float):
        count = int(value)
    else:
        match = _COUNT.match(str(value))
        if not match:
            raise ConfigError(
                f"{name}={value!r} is not a parameter count; write e.g. {name}=9M, "
                f"{name}=250k or {name}=9100000"
            )
        count = int(float(match.group(1)) * _SCALE[match.group(2).lower()])
    if count < 1:
        raise ConfigError(f"{name}={value!r} must be a positive parameter count")
    return count


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _count_at(make: Callable[[int], nn.Module], width: int) -> int:
    with torch.device("meta"):
        return count_parameters(make(width))


def fit_width(make: Callable[[int], nn.Module], target: Any, *, low: int = 1,
              high: int = 8192, name: str = "params") -> int:
    """The width in [low, high] whose model's parameter count is closest to ``target``.

    Args:
        make: ``width -> model``; its parameter count must not decrease with ``width``.
        target: a count or a string such as ``"9M"`` (see :func:`parse_param_count`).
        low, high: the widths searched.
        name: the hyperparameter's name, for errors.
    """
    goal = parse_param_count(target, name=name)
    if _count_at(make, high) < goal:
        raise ConfigError(
            f"{name}={target!r}: even width {high} gives only {_count_at(make, high):,} "
            "parameters; ask for fewer"
        )
    lo, hi = low, high
    while lo < hi:  # smallest width with count >= goal
        mid = (lo + hi) // 2
        if _count_at(make, mid) >= goal:
            hi = mid
        else:
            lo = mid + 1
    if lo > low and goal - _count_at(make, lo - 1) < _count_at(make, lo) - goal:
        return lo - 1
    return lo
