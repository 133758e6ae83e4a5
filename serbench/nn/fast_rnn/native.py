"""Compiled per-step loops for the custom cells (C++ sources in ``csrc/``), built on first use.

Why compiled: at batch 32 the ATen loops of this package already train near the fused
cells, but every step still costs several Python-dispatched ATen calls; for the A-LSTM
(two combinations every fifth step) that overhead alone keeps a training step above
1.5x ``nn.LSTM``, and at batch 1 it dominates. The C++ loop runs the same buffers and
equations with three ATen calls per step (the GEMM and the vectorised sigmoid and tanh)
and the rest in loops of its own.

The extension is compiled by ``torch.utils.cpp_extension.load`` (ninja, the ``ninja``
PyPI package, and the C++ compiler every Python build machine has) the first time it is
needed, into torch's extension folder (``TORCH_EXTENSIONS_DIR``, by default
``~/.cache/torch_extensions``), which later processes reuse; a build takes about 40 s on 2 cores.
If it cannot be built or loaded, :func:`load` warns once, in one line, and returns None,
and the callers keep their ATen loop: a missing compiler never stops a run.
``SERBENCH_NATIVE_RNN=0`` skips the compiled loops (the ATen loops then run).
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path
from types import ModuleType

_SOURCES = Path(__file__).with_name("csrc")
_lock = threading.Lock()
_loaded: dict[str, ModuleType | None] = {}


def enabled() -> bool:
    """False when ``SERBENCH_NATIVE_RNN`` is ``0`` (or ``false``/``no``/``off``)."""
    return os.environ.get("SERBENCH_NATIVE_RNN", "1").strip().lower() not in {"0", "false", "no", "off"}


def _build(name: str) -> ModuleType:
    from torch.utils import cpp_extension

    source = _SOURCES / f"{name}.cpp"
    if not source.is_file():
        raise FileNotFoundError(f"{source} is missing from the installed serbench")
    _put_ninja_on_path()
    return cpp_extension.load(
        name=f"serbench_{name}",
        sources=[str(source)],
        extra_cflags=["-O3"],
        verbose=False,
    )


def _put_ninja_on_path() -> None:
    """torch runs ``ninja`` from PATH; a venv's ``bin`` is not on it unless activated."""
    try:
        import ninja
    except ImportError:
        return
    bin_dir = getattr(ninja, "BIN_DIR", None)
    path = os.environ.get("PATH", "")
    if bin_dir and bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir


def load(name: str) -> ModuleType | None:
    """The compiled module ``csrc/<name>.cpp``, or None (disabled, or it cannot be built).

    Builds at most once per process; a failure warns once and is remembered.
    """
    if not enabled():
        return None
    with _lock:
        if name not in _loaded:
            try:
                _loaded[name] = _build(name)
            except Exception as exc:  # no compiler, no ninja, a read-only cache, ...
                # a build error's last lines name the cause; its first lines are the command
                lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
                errors = [ln for ln in lines if "error" in ln.lower()]
                reason = (errors[-1] if errors else lines[-1] if lines else "")[:300]
                warnings.warn(f"serbench: compiled {name} loop unavailable ({type(exc).__name__}: "
                              f"{reason}); using the ATen loop", RuntimeWarning, stacklevel=2)
                _loaded[name] = None
        return _loaded[name]
