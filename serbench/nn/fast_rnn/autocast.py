"""The fast recurrences run in fp32, also inside ``torch.autocast`` (``--precision bf16``).

Their hand-written backward passes write into preallocated buffers of the input's dtype
and accumulate gradients over hundreds of steps; in bf16 that sum loses the small
late-step terms. So under autocast the wrapped function casts its floating tensor
arguments to fp32 and runs with autocast off; its outputs are fp32, which the layers
after it (under autocast again) accept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch

F = TypeVar("F", bound=Callable[..., Any])


def _up(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.float()
    if isinstance(value, tuple):
        return tuple(_up(v) for v in value)
    return value


def fp32_under_autocast(fn: F) -> F:
    """Decorator: run ``fn`` in fp32 with autocast off when autocast is on for its device
    (the device of its first tensor argument); unchanged otherwise."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        first = next((a for a in args if isinstance(a, torch.Tensor)), None)
        if first is None or not torch.is_autocast_enabled(first.device.type):
            return fn(*args, **kwargs)
        with torch.autocast(device_type=first.device.type, enabled=False):
            return fn(*(_up(a) for a in args), **{k: _up(v) for k, v in kwargs.items()})

    return wrapper  # type: ignore[return-value]
