"""Delta regression and frame pooling, shared by the frame-level feature sets.

:func:`delta` is openSMILE's ``cDeltaRegression`` (the HTK formula) with its edge rule,
``d_t = sum_{i=1..W} i (x_{t+i} - x_{t-i}) / (2 sum_{i=1..W} i^2)`` with the first and
last frame repeated beyond the edges. ``tests/test_features_sets.py`` checks it equals
openSMILE's own ``lld_de`` output frame for frame (openSMILE emits two extra trailing
delta frames after the end of input; serbench aligns deltas to the LLD frames, so the
counts always match).
"""

from __future__ import annotations

import numpy as np


def delta(frames: np.ndarray, window: int = 2) -> np.ndarray:
    """(T, D) -> (T, D) regression deltas over +-``window`` frames (openSMILE ``deltawin``)."""
    frames = np.asarray(frames, dtype=np.float64)
    t = frames.shape[0]
    if t == 0:
        return frames.astype(np.float32)
    padded = np.concatenate(
        [np.repeat(frames[:1], window, axis=0), frames, np.repeat(frames[-1:], window, axis=0)]
    )
    numerator = sum(
        i * (padded[window + i : window + i + t] - padded[window - i : window - i + t])
        for i in range(1, window + 1)
    )
    return (numerator / (2.0 * sum(i * i for i in range(1, window + 1)))).astype(np.float32)


def mean_pool(frames: np.ndarray, size: int) -> np.ndarray:
    """(T, D) -> (ceil(T / size), D): the mean of every ``size`` consecutive frames.

    The last group averages the frames it has (it is never zero-padded).
    """
    t = frames.shape[0]
    if size <= 1 or t == 0:
        return np.asarray(frames, dtype=np.float32)
    starts = np.arange(0, t, size)
    sums = np.add.reduceat(np.asarray(frames, dtype=np.float64), starts, axis=0)
    counts = np.minimum(size, t - starts)[:, None]
    return (sums / counts).astype(np.float32)
