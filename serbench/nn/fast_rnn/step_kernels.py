"""Fused per-step kernels for the fast loops on CUDA, with a fallback that never crashes.

On a CPU the loops of this package are cheap (and the LSTM-type ones run compiled C++,
:mod:`.native`). On CUDA each ATen call of a step is a kernel launch dispatched from
Python, and at the papers' sizes (B x H = 32 x 128) a launch costs more than its
arithmetic: a GRU step's six calls (GEMM, add, sigmoid, multiply-add, activation, lerp)
are launch-bound. A :class:`StepKernel` turns a step's element-wise part into one kernel
with ``torch.compile`` (Inductor writes a Triton kernel on CUDA, C++ on a CPU), so a step
is the GEMM plus one fused launch. The step writes its results into the loop's
preallocated buffers (``out.copy_`` inside the compiled function, which Inductor turns
into the fused kernel's stores), so the compiled and eager steps fill the same buffers.

Selection (``SERBENCH_RNN_COMPILE``): ``auto`` (default) compiles on CUDA only; ``on``
compiles on any device (the tests use it on a CPU); ``off`` never compiles. A step is
run eagerly, with a one-line warning (once per kernel and reason), when the dtype is not
one Inductor handles here (fp32, bf16, fp16) or compiling fails (no Triton, no C++
compiler, an unsupported op): the eager function is the same arithmetic, so the fallback
changes nothing but speed.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import torch

MODES = ("auto", "on", "off")
#: dtypes the compiled steps are built for; anything else (fp64 in gradchecks) runs eagerly
COMPILED_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def mode() -> str:
    """``SERBENCH_RNN_COMPILE``: ``auto``, ``on`` or ``off`` (an unknown value warns, means auto)."""
    value = os.environ.get("SERBENCH_RNN_COMPILE", "auto").strip().lower()
    if value in {"0", "false", "no"}:
        return "off"
    if value in {"1", "true", "yes"}:
        return "on"
    if value not in MODES:
        warnings.warn(f"SERBENCH_RNN_COMPILE={value!r} is not one of {', '.join(MODES)}; "
                      "using auto", RuntimeWarning, stacklevel=2)
        return "auto"
    return value


def _compile(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``torch.compile`` of one step (kept separate so tests can make it fail)."""
    # dynamic=None: shapes are static until a second batch size appears, then symbolic,
    # so the short last batch of an epoch costs one recompilation, not one per size.
    return torch.compile(fn, fullgraph=True, dynamic=None)


class StepKernel:
    """One step's element-wise part, compiled where :func:`mode` says, else eager.

    Args:
        name: for warnings, e.g. ``"GRU step"``.
        fn: the eager step; it must write its results into output tensors passed to it
            (``out.copy_(...)``) and return nothing, so both paths fill the same buffers.
    """

    def __init__(self, name: str, fn: Callable[..., None]):
        self.name = name
        self.fn = fn
        self._compiled: Callable[..., Any] | None = None
        self._failed: str | None = None
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def _warn(self, reason: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"serbench: compiled {self.name} unavailable ({reason}); using the "
                          "ATen step", RuntimeWarning, stacklevel=3)

    def wants_compiled(self, device: torch.device, dtype: torch.dtype) -> bool:
        """Whether :meth:`for_device` would try the compiled step (warns when it cannot)."""
        chosen = mode()
        if chosen == "off" or (chosen == "auto" and device.type != "cuda"):
            return False
        if self._failed is not None:
            return False
        if dtype not in COMPILED_DTYPES:
            self._warn(f"dtype {dtype} is not compiled")
            return False
        return True

    def for_device(self, device: torch.device, dtype: torch.dtype) -> Callable[..., None]:
        """The step to call in a loop on ``device`` with tensors of ``dtype``."""
        if not self.wants_compiled(device, dtype):
            return self.fn
        with self._lock:
            if self._compiled is None:
                try:
                    self._compiled = _compile(self.fn)
                except Exception as exc:  # torch.compile itself unavailable
                    return self._give_up(exc)
        compiled = self._compiled

        def step(*args: Any) -> None:
            if self._failed is not None:
                self.fn(*args)
                return
            try:
                compiled(*args)
            except Exception as exc:  # compiling happens on the first call of each shape
                self._give_up(exc)
                self.fn(*args)  # the step writes its outputs only: a rerun is exact

        return step

    def _give_up(self, exc: BaseException) -> Callable[..., None]:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        self._failed = f"{type(exc).__name__}: {(lines[0] if lines else '')[:200]}"
        self._warn(self._failed)
        return self.fn
