"""Cheap, deterministic test extractors for the feature-cache fault tests.

- ``frames8``: 8 dims, 100 frames a second, values computed from the signal (no openSMILE);
- ``flaky8``: ``frames8`` that fails on the first attempt for a constant signal of 0.09
  and always for one of 0.05 (:func:`write_constant`); the ``counter`` parameter names a
  file that counts attempts, so it works across processes;
- ``swallow8``: ``frames8`` that, on its ``SWALLOW_AT``-th call, sends SIGINT to its own
  process and then behaves like openSMILE's ctypes callback: a ``KeyboardInterrupt``
  raised inside the call is swallowed and the file comes back as NaN.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np

from serbench import hookimpl
from serbench.components import FeatureSpec
from serbench.plugins import Registry, make_plugin_manager

SR = 16000
SWALLOW_AT = 3
_calls = {"swallow": 0}


class Frames8:
    level = "frames"
    sample_rate = SR
    names = [f"d{i}" for i in range(8)]
    backend = {"test": "1"}
    min_seconds = 0.05

    def __call__(self, signal_: np.ndarray, sample_rate: int) -> np.ndarray:
        """(T, 8) with T = 100 frames a second."""
        frames = signal_[: signal_.size // 160 * 160].reshape(-1, 160)
        base = np.stack([np.abs(frames).mean(1), frames.std(1)], axis=1)
        return np.concatenate([base * (k + 1) for k in range(4)], axis=1).astype(np.float32)


class FlakyCall:
    """Wraps Frames8; fails by the rules in the module docstring (counts in ``counter``)."""

    level, sample_rate, names, backend, min_seconds = (
        Frames8.level, SR, Frames8.names, {"test": "flaky"}, Frames8.min_seconds)

    def __init__(self, counter: Path) -> None:
        self.counter = counter
        self.inner = Frames8()

    def __call__(self, signal_: np.ndarray, sample_rate: int) -> np.ndarray:
        key = f"{float(np.abs(signal_).sum()):.3f}"
        with open(self.counter, "a") as fh:
            fh.write(key + "\n")
        seen = self.counter.read_text().split().count(key)
        amp = float(np.abs(signal_).max())
        if abs(amp - 0.05) < 0.01:  # "broken": always fails
            raise RuntimeError("descriptor exploded")
        if abs(amp - 0.09) < 0.01 and seen == 1:  # "flaky": fails only the first time
            raise RuntimeError("transient failure")
        return self.inner(signal_, sample_rate)


class Swallow8(Frames8):
    backend = {"test": "swallow"}

    def __call__(self, signal_: np.ndarray, sample_rate: int) -> np.ndarray:
        _calls["swallow"] += 1
        if _calls["swallow"] != SWALLOW_AT:
            return super().__call__(signal_, sample_rate)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(200):  # the handler runs between these bytecodes
                time.sleep(0.001)
        except KeyboardInterrupt:  # what openSMILE's ctypes callback does with it
            return np.full((4, 8), np.nan, np.float32)
        return super().__call__(signal_, sample_rate)


def write_constant(path: Path, value: float, seconds: float = 0.5) -> Path:
    """A constant-valued WAV (what ``flaky8`` recognises)."""
    import soundfile

    soundfile.write(path, np.full(int(seconds * SR), value, np.float32), SR)
    return path


def build_frames8(params: dict) -> Frames8:
    return Frames8()


def build_flaky8(params: dict) -> FlakyCall:
    return FlakyCall(Path(params["counter"]))


def build_swallow8(params: dict) -> Swallow8:
    return Swallow8()


class _Plugin:
    @staticmethod
    @hookimpl
    def register_features(register):
        for name, builder, defaults in (
            ("frames8", "build_frames8", {}),
            ("flaky8", "build_flaky8", {"counter": ""}),
            ("swallow8", "build_swallow8", {}),
        ):
            register(FeatureSpec(name=name, version=1, description=f"test: {name}",
                                 extractor=f"{__name__}:{builder}", level="frames",
                                 default_params=defaults))


def fault_registry() -> Registry:
    """A registry with only the test features above."""
    return Registry(make_plugin_manager(load_entry_points=False, extra_plugins=[("f", _Plugin)]))
