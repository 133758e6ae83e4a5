"""``st36``: the 36-dim short-term set of the A-LSTM paper (ICASSP 2018, section 3).

13 MFCCs, zero-crossing rate, energy, entropy of energy, spectral centroid, spread,
entropy, flux and roll-off, 12 chroma, chroma deviation, harmonic ratio and pitch;
25 ms windows, 10 ms shift, 16 kHz (the short-term set of pyAudioAnalysis).

Where each comes from:

- openSMILE (``configs/st36.conf``) for every descriptor it has: MFCC 0-12, ZCR, RMS
  energy, spectral centroid, spectral variance (serbench reports its square root, the
  spread), spectral entropy, flux, 90 % roll-off, the 12-bin chroma vector (``cTonespec``
  + ``cChroma``; ``chroma[0]`` is C), voicing probability (the normalised
  autocorrelation peak, i.e. the harmonic ratio) and ACF pitch (F0 in Hz, 0 when
  unvoiced);
- numpy for the two openSMILE lacks: chroma deviation (the standard deviation of the 12
  chroma values of a frame) and entropy of energy (the entropy, in bits, of the
  normalised energies of 10 equal sub-frames, pyAudioAnalysis' definition).

Both paths frame the signal identically (frame k starts at k x 10 ms), so their frames
are aligned; the shorter count of the two is kept. Nothing here needs librosa, whose
import costs seconds in every extraction worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from serbench.features.opensmile_sets import CONFIG_DIR, OpenSmileExtractor

N_SUBFRAMES = 10
_HEAD = [*(f"mfcc[{k}]" for k in range(13)), "pcm_zcr", "pcm_RMSenergy"]
_SPECTRAL = [
    "pcm_fftMag_spectralCentroid",
    "pcm_fftMag_spectralVariance",
    "pcm_fftMag_spectralEntropy",
    "pcm_fftMag_spectralFlux",
    "pcm_fftMag_spectralRollOff90.0",
]
_CHROMA = [f"tone_note_chroma[{k}]" for k in range(12)]


class St36Extractor:
    """openSMILE + numpy -> (T, 36)."""

    level: Literal["frames", "functionals"] = "frames"

    def __init__(self, frame_size: float = 0.025, frame_step: float = 0.010, sample_rate: int = 16000):
        self.sample_rate = sample_rate
        self.frame_size, self.frame_step = float(frame_size), float(frame_step)
        self._smile = OpenSmileExtractor(
            str(CONFIG_DIR / "st36.conf"),
            "lld",
            sink_level="st36",
            options={"frameSize": self.frame_size, "frameStep": self.frame_step},
            sample_rate=sample_rate,
        )
        self.min_seconds = max(self._smile.min_seconds, 2 * self.frame_size)
        self.names = (
            _HEAD
            + ["energy_entropy", "spectral_centroid", "spectral_spread", "spectral_entropy",
               "spectral_flux", "spectral_rolloff90"]
            + [f"chroma[{k}]" for k in range(12)]
            + ["chroma_deviation", "harmonic_ratio", "pitch_F0"]
        )

    @property
    def backend(self) -> dict[str, Any]:
        return self._smile.backend

    def _frames(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        length = int(round(self.frame_size * sample_rate))
        hop = int(round(self.frame_step * sample_rate))
        if signal.shape[0] < length:
            return np.zeros((0, length), dtype=np.float64)
        windows = np.lib.stride_tricks.sliding_window_view(signal, length)[::hop]
        return windows.astype(np.float64)

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        smile = self._smile(signal, sample_rate)
        col = {n: i for i, n in enumerate(self._smile.names)}
        frames = self._frames(np.asarray(signal, dtype=np.float32), sample_rate)
        t = min(smile.shape[0], frames.shape[0])
        smile, frames = smile[:t], frames[:t]

        sub = frames[:, : (frames.shape[1] // N_SUBFRAMES) * N_SUBFRAMES]
        sub_energy = (sub.reshape(t, N_SUBFRAMES, -1) ** 2).sum(axis=2)
        p = sub_energy / (sub_energy.sum(axis=1, keepdims=True) + 1e-12)
        energy_entropy = -(p * np.log2(p + 1e-12)).sum(axis=1)

        spectral = smile[:, [col[n] for n in _SPECTRAL]].astype(np.float64)
        spectral[:, 1] = np.sqrt(np.maximum(spectral[:, 1], 0.0))  # variance -> spread
        chroma = smile[:, [col[n] for n in _CHROMA]]
        out = np.concatenate(
            [
                smile[:, [col[n] for n in _HEAD]],
                energy_entropy[:, None],
                spectral,
                chroma,
                chroma.std(axis=1, keepdims=True),
                smile[:, [col["voiceProb"], col["F0"]]],
            ],
            axis=1,
        )
        return out.astype(np.float32)


def build(params: Mapping[str, Any]) -> St36Extractor:
    """``params``: ``frame_size`` / ``frame_step`` in seconds (defaults 0.025 / 0.010)."""
    return St36Extractor(
        frame_size=float(params.get("frame_size", 0.025)),
        frame_step=float(params.get("frame_step", 0.010)),
    )
