"""Trimming leading and trailing silence before feature extraction.

Corpora segment utterances with some silence (or room noise) before and after the
speech: 50-600 ms on the synthetic corpus, next to nothing on nEMO. Trimming it is a
common preprocessing choice in SER; serbench offers it as an explicit, recorded option
(see docs/features.md), off by default.

``trim_silence`` is a parameter every feature accepts (``--feature-param
trim_silence=10``, or a model's ``preferred`` ``feature_params``). The feature cache
removes it before building the extractor, trims each signal before extraction, and keys
the cache on it, so trimmed and untrimmed features are cached side by side.

The rule, on 25 ms frames every 10 ms: a frame is *active* when its energy lies more
than ``trim_silence`` dB above the utterance's noise floor (the 10th percentile of frame
energies); the signal is cut to [first active frame - ``TRIM_KEEP_S``, last active frame's
end + ``TRIM_KEEP_S``]. A floor relative to the utterance, rather than a threshold below
the peak as ``librosa.effects.trim`` uses, follows the recording's noise level, which
varies by 15 dB between speakers of one corpus. An utterance whose energies span less
than ``trim_silence`` dB has no clear silence and is left whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from serbench.errors import ConfigError

#: the feature parameter that turns trimming on (its value: dB above the noise floor)
TRIM_PARAM = "trim_silence"
#: silence kept at each end, so onsets and releases below the threshold survive (s)
TRIM_KEEP_S = 0.1
FRAME_S, HOP_S = 0.025, 0.010
#: percentile of frame energies taken as the utterance's noise floor
FLOOR_PERCENTILE = 10


def trim_threshold(params: Mapping[str, Any], feature: str = "") -> float | None:
    """The ``trim_silence`` value of feature ``params`` (None: no trimming).

    Raises:
        ConfigError: a value that is not a positive number of dB.
    """
    value = params.get(TRIM_PARAM)
    if value in (None, False, "none", "null", 0):
        return None
    try:
        db = float(value)
    except (TypeError, ValueError):
        db = float("nan")
    if not db > 0:
        where = f" of feature {feature!r}" if feature else ""
        raise ConfigError(
            f"feature parameter {TRIM_PARAM}={value!r}{where}: give the dB above the noise "
            f"floor that counts as speech (e.g. {TRIM_PARAM}=10), or null for no trimming"
        )
    return db


def extractor_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without ``trim_silence``, which the cache applies, not the extractor."""
    return {k: v for k, v in params.items() if k != TRIM_PARAM}


def frame_energy_db(signal: np.ndarray, rate: int) -> np.ndarray:
    """Energy of 25 ms frames every 10 ms, in dB: (N,) -> (F,); F = 0 for a signal shorter
    than one frame."""
    frame, hop = round(FRAME_S * rate), round(HOP_S * rate)
    if len(signal) < frame:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(signal.astype(np.float64), frame)[::hop]
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def active_span(signal: np.ndarray, rate: int, threshold_db: float) -> tuple[int, int]:
    """[start, end) in samples of the speech in ``signal`` (N,), with ``TRIM_KEEP_S`` kept
    either side; (0, N) when there is no clear silence to remove."""
    n = len(signal)
    energy = frame_energy_db(signal, rate)
    if len(energy) == 0:
        return 0, n
    floor = np.percentile(energy, FLOOR_PERCENTILE)
    if energy.max() - floor < threshold_db:
        return 0, n
    active = np.flatnonzero(energy > floor + threshold_db)
    hop, frame, keep = round(HOP_S * rate), round(FRAME_S * rate), round(TRIM_KEEP_S * rate)
    start = max(int(active[0]) * hop - keep, 0)
    end = min(int(active[-1]) * hop + frame + keep, n)
    return start, end


def trim_silence(signal: np.ndarray, rate: int, threshold_db: float) -> np.ndarray:
    """``signal`` (N,) without its leading and trailing silence: (M,), M <= N."""
    start, end = active_span(signal, rate, threshold_db)
    return signal[start:end]
