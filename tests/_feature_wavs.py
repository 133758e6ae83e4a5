"""Short synthetic WAVs and manifests for the feature tests (voiced-like harmonic tones)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import soundfile


def tone(f0: float, seconds: float, sr: int = 16000, amp: float = 0.3, seed: int = 0) -> np.ndarray:
    """A harmonic tone with a little noise, (N,) float32."""
    t = np.arange(int(seconds * sr)) / sr
    x = sum(amp / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 6))
    noise = np.random.default_rng(seed).standard_normal(t.size) * 0.01
    return (x + noise).astype(np.float32)


def write_wavs(folder: Path, n: int = 6, seconds: float = 0.6, sr: int = 16000) -> pl.DataFrame:
    """``n`` tones over 2 speakers; returns a manifest with absolute paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        path = folder / f"u{i}.wav"
        soundfile.write(path, tone(120 + 20 * i, seconds + 0.05 * i, sr, seed=i), sr)
        rows.append({"utt_id": f"u{i}", "path": str(path), "speaker": f"s{i % 2}",
                     "label": "a" if i % 3 else "b"})
    return pl.DataFrame(rows)
