"""Render one dialogue: espeak-ng speech, then voice-quality and recording post-processing.

Runs in the generating process or a worker process (see ``generate.py``). The
post-processing is plain float64 arithmetic (filters, interpolation, a seeded PCG64
generator), and the float -> int16 step rounds explicitly (``np.rint``, half to even), so
the same plan gives the same bytes.
"""

from __future__ import annotations

import math
import os
import wave
from pathlib import Path

import numpy as np
from scipy.signal import lfilter, resample_poly

from serbench.corpora.synthetic.design import DialogPlan, UtterancePlan
from serbench.corpora.synthetic.espeak import Espeak, Prosody

SAMPLE_RATE = 16000
#: RMS level (dBFS) of a neutral utterance of a speaker with a 0 dB loudness baseline.
BASE_LEVEL_DB = -27.0


def _one_pole_lowpass(x: np.ndarray, cutoff_hz: float, fs: int) -> np.ndarray:
    p = math.exp(-2.0 * math.pi * cutoff_hz / fs)
    return lfilter([1.0 - p], [1.0, -p], x)


def _smooth_noise(r: np.random.Generator, n: int, step: int) -> np.ndarray:
    """Unit-variance noise, linearly interpolated between knots every ``step`` samples."""
    knots = r.standard_normal(n // step + 2)
    return np.interp(np.arange(n) / step, np.arange(knots.size), knots)


def _jitter_shimmer(x: np.ndarray, jitter: float, r: np.random.Generator) -> np.ndarray:
    """Fast random time warp (period perturbation, i.e. jitter) and amplitude shimmer."""
    n = x.size
    # knots every ~2 ms: the period changes from one glottal cycle to the next
    speed = 1.0 + jitter * _smooth_noise(r, n, 40)
    pos = np.cumsum(speed) - speed[0]
    pos = pos[pos <= n - 1]
    y = np.interp(pos, np.arange(n), x)
    shimmer = 1.0 + 4.0 * jitter * _smooth_noise(r, y.size, 100)
    return y * shimmer


def _tilt(x: np.ndarray, tilt_db: float, fs: int) -> np.ndarray:
    """Spectral tilt: gain ``tilt_db`` on everything above ~1 kHz (a first-order shelf)."""
    low = _one_pole_lowpass(x, 1000.0, fs)
    return low + (10.0 ** (tilt_db / 20.0)) * (x - low)


def _breath(x: np.ndarray, level: float, fs: int, r: np.random.Generator) -> np.ndarray:
    """Aspiration noise: high-passed noise following the speech envelope."""
    noise = r.standard_normal(x.size)
    noise = noise - _one_pole_lowpass(noise, 1500.0, fs)
    envelope = _one_pole_lowpass(np.abs(x), 30.0, fs)
    return x + level * 4.0 * envelope * noise


def _rms_db(x: np.ndarray) -> float:
    """RMS level in dB, rounded to 1e-6 dB so that a last-bit difference in a sum (SIMD
    reduction order differs between CPUs) cannot change the gain applied afterwards."""
    power = float(np.sum(x * x)) / max(x.size, 1)
    return round(10.0 * math.log10(power), 6) if power > 0 else 0.0


def _gain_to(x: np.ndarray, level_db: float, measure: np.ndarray | None = None) -> np.ndarray:
    """Scale ``x`` so that ``measure`` (default ``x``) has RMS ``level_db`` dBFS."""
    current = _rms_db(x if measure is None else measure)
    return x * 10.0 ** (round(level_db - current, 6) / 20.0)


def _level(x: np.ndarray, loudness_db: float) -> np.ndarray:
    """Set the level of the voiced part (samples above 2% of the peak)."""
    active = x[np.abs(x) > 0.02 * np.max(np.abs(x))] if x.size else x
    return _gain_to(x, BASE_LEVEL_DB + loudness_db, active)


def render_utterance(voice: Espeak, utt: UtterancePlan, voice_name: str) -> np.ndarray:
    """One utterance as int16 samples at 16 kHz, shape ``(N,)``."""
    r = np.random.default_rng(utt.seed)
    prosody = Prosody(rate=utt.rate, pitch=utt.pitch, range=utt.range, wordgap=utt.wordgap)
    words = utt.transcript.split()
    if utt.pause_s > 0 and len(words) >= 4:
        # a hesitation between two halves, spoken separately, joined by a pause
        cut = int(r.integers(2, len(words) - 1))
        parts = [" ".join(words[:cut]), " ".join(words[cut:])]
    else:
        parts = [utt.transcript]
    pieces = []
    for i, text in enumerate(parts):
        raw = voice.synthesize(text, voice_name, prosody, seed=utt.seed + i)
        x = raw.astype(np.float64) / 32768.0
        if i > 0:
            pieces.append(np.zeros(int(round(utt.pause_s * voice.sample_rate))))
        pieces.append(x)
    x = np.concatenate(pieces)
    fs = voice.sample_rate
    x = _jitter_shimmer(x, utt.jitter, r)
    x = _tilt(x, utt.tilt_db, fs)
    x = _breath(x, utt.breath, fs, r)
    x = _level(x, utt.loudness_db)
    g = math.gcd(SAMPLE_RATE, fs)
    x = resample_poly(x, SAMPLE_RATE // g, fs // g)
    lead = np.zeros(int(round(utt.lead_s * SAMPLE_RATE)))
    trail = np.zeros(int(round(utt.trail_s * SAMPLE_RATE)))
    x = np.concatenate([lead, x, trail])
    # room noise (slightly low-passed), present in pauses and silences as in a recording
    room = _one_pole_lowpass(r.standard_normal(x.size), 3000.0, SAMPLE_RATE)
    x = x + _gain_to(room, utt.noise_db)
    return np.clip(np.rint(x * 32767.0), -32768, 32767).astype("<i2")


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Write 16-bit mono PCM to a temporary name, then rename: never a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE)
            w.writeframes(samples.astype("<i2").tobytes())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def render_dialog(dialog: DialogPlan, wav_root: Path, data_dir: Path,
                  voices: dict[str, str]) -> int:
    """Render a dialogue's missing WAVs into ``wav_root/<dialog>/``; return how many were written.

    A fresh libespeak-ng instance speaks every turn in order, even when its file exists:
    the library's internal state depends on what it spoke before (see ``espeak.py``), so
    resuming replays the dialogue to get the same bytes.

    Args:
        data_dir: the private espeak-ng data folder (see ``voices.write_voice_files``).
        voices: speaker id -> espeak-ng voice name.
    """
    folder = Path(wav_root) / dialog.name
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with Espeak(data_dir) as voice:
        for utt in dialog.utterances:
            path = folder / f"{utt.utt_id}.wav"
            samples = render_utterance(voice, utt, voices[utt.speaker])
            if not path.is_file():
                write_wav(path, samples)
                written += 1
    return written
