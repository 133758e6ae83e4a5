"""Reading one utterance's audio the way every feature extractor expects it.

:func:`read_audio` returns float32 mono samples in [-1, 1] at the feature set's rate:

- the file is read with ``soundfile``; a ``start``/``end`` segment (seconds) is cut by
  seeking, before anything else, so long session files are never read whole;
- several channels are averaged to mono (the usual down-mix; openSMILE's ``monoMixdown``
  does the same);
- a different sample rate is converted with ``soxr`` (libsoxr's high-quality resampler,
  librosa's default; its import is light, which matters in every extraction worker).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from serbench.errors import SerbenchError


class AudioError(SerbenchError):
    """An audio file (or segment) that cannot be read; the message names the file."""


def resample(signal: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """``signal`` (N,) at ``source_rate`` -> (M,) float32 at ``target_rate``."""
    if source_rate == target_rate:
        return np.asarray(signal, dtype=np.float32)
    import soxr

    out = soxr.resample(np.asarray(signal, dtype=np.float32), int(source_rate), int(target_rate), quality="HQ")
    return np.asarray(out, dtype=np.float32)


def read_audio(
    path: str | Path,
    sample_rate: int | None = None,
    *,
    start: float | None = None,
    end: float | None = None,
) -> tuple[np.ndarray, int]:
    """Read ``path`` as float32 mono, optionally cut to ``[start, end)`` and resampled.

    Args:
        path: any file libsndfile reads (wav, flac, ogg, ...).
        sample_rate: the rate to return; ``None`` keeps the file's rate.
        start: segment start in seconds (``None``: from the beginning).
        end: segment end in seconds (``None``: to the end of the file).

    Returns:
        ``(signal (N,) float32 in [-1, 1], rate)``.

    Raises:
        AudioError: the file is missing or unreadable, or the segment lies outside it.
    """
    import soundfile

    path = Path(path)
    try:
        info = soundfile.info(str(path))
    except Exception as exc:  # soundfile raises its own error types (and RuntimeError)
        raise AudioError(f"cannot read audio file {path}: {exc}") from exc
    rate = int(info.samplerate)
    first = 0 if start is None or (isinstance(start, float) and np.isnan(start)) else start
    last = None if end is None or (isinstance(end, float) and np.isnan(end)) else end
    frame_start = max(0, int(round(float(first) * rate)))
    frame_stop = info.frames if last is None else min(info.frames, int(round(float(last) * rate)))
    if frame_start >= frame_stop:
        raise AudioError(
            f"segment [{start}, {end}) s of {path} is empty (the file lasts "
            f"{info.frames / rate:.3f} s); fix the manifest's start/end columns"
        )
    try:
        data, _ = soundfile.read(
            str(path), start=frame_start, stop=frame_stop, dtype="float32", always_2d=True
        )
    except Exception as exc:
        raise AudioError(f"cannot decode audio file {path}: {exc}") from exc
    signal = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if sample_rate is not None and sample_rate != rate:
        signal = resample(signal, rate, int(sample_rate))
        rate = int(sample_rate)
    return np.ascontiguousarray(signal, dtype=np.float32), rate
