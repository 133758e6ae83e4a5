"""``--precision fp32|bf16|fp16``: mixed precision for training and inference.

``bf16`` and ``fp16`` run the model's forward pass under :func:`torch.autocast` (matrix
products and convolutions in the lower precision, reductions and the loss in fp32;
parameters and optimiser state stay fp32). ``fp16`` also scales the loss with a
:class:`torch.amp.GradScaler`, since fp16 gradients underflow; bf16 has fp32's range and
needs none. The custom recurrences of :mod:`serbench.nn.fast_rnn` run in fp32 inside
autocast (their inputs are cast up), so a lower precision never changes their algorithm.
The default, ``fp32``, runs no autocast at all: results equal those of runs made before
the flag existed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from serbench.errors import ConfigError
from serbench.training.config import PRECISIONS

__all__ = ["PRECISIONS", "autocast", "check_precision", "cpu_has_bf16", "full_precision",
           "grad_scaler"]
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def check_precision(precision: str, device: torch.device) -> None:
    """Refuse a precision the device cannot run, before any work starts.

    Raises:
        ConfigError: an unknown name, fp16 off CUDA, bf16 on a GPU without bf16
            support (before Ampere), naming the GPU and what to use instead, or bf16 on a
            CPU without native bfloat16 (oneDNN's LSTM has no bf16 primitive there).
    """
    if precision not in PRECISIONS:
        raise ConfigError(
            f"--precision {precision!r}: choose one of {', '.join(PRECISIONS)}"
        )
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(
            f"--precision fp16 needs a CUDA device (CPU kernels such as oneDNN's LSTM have no "
            f"fp16 form; this run is on {device.type}); use --precision bf16 or fp32"
        )
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError(
            f"--precision bf16: {torch.cuda.get_device_name(device)} has no bfloat16 support "
            "(it needs compute capability 8.0, Ampere, or newer); use --precision fp16 or fp32"
        )
    if precision == "bf16" and device.type == "cpu" and not cpu_has_bf16():
        raise ConfigError(
            "--precision bf16: this CPU has no native bfloat16 for oneDNN (it needs AVX-512 "
            "with BF16, or AMX), so oneDNN's LSTM cannot run in bf16 here; use --precision "
            "fp32, or bf16 on a GPU"
        )


def cpu_has_bf16() -> bool:
    """Whether oneDNN runs bfloat16 natively on this CPU; True when torch cannot say."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return True


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[None]:
    """The autocast context of ``precision`` on ``device`` (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_DTYPES[precision])


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A loss scaler, enabled for fp16 only (a disabled scaler passes everything through)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


@contextlib.contextmanager
def full_precision(device: torch.device) -> Iterator[None]:
    """Autocast off inside: for code whose numerics must stay fp32 (the custom cells)."""
    with torch.autocast(device_type=device.type, enabled=False):
        yield
