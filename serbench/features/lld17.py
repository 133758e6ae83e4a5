"""``lld17``: the 17 LLDs of the RLC (IJCAI 2019, section 4) and DRN (ICASSP 2019) papers.

12 MFCCs (1-12), log energy, voicing probability, HNR, log F0 and zero-crossing rate,
computed by openSMILE with ``configs/lld17.conf`` (shipped in the package; it uses the
external source/sink template of the ``opensmile`` package's own configs). Two named
variants differ only in framing:

- ``lld17``: 25 ms window, 5 ms shift (RLC paper);
- ``lld17_drn``: 40 ms window, 10 ms shift (DRN paper).

``frame_size`` / ``frame_step`` (seconds) may also be given as params.

log F0: openSMILE's ACF pitch tracker reports F0 in Hz and 0 for unvoiced frames;
serbench takes ``ln(F0)`` on voiced frames and keeps 0 on unvoiced ones (openSMILE's own
convention for unvoiced F0), so no frame gets ``-inf``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from serbench.features.opensmile_sets import CONFIG_DIR, OpenSmileExtractor


class Lld17Extractor:
    """openSMILE ``lld17.conf`` -> (T, 17) with F0 turned into log F0."""

    level: Literal["frames", "functionals"] = "frames"

    def __init__(self, frame_size: float = 0.025, frame_step: float = 0.005, sample_rate: int = 16000):
        self.sample_rate = sample_rate
        self._smile = OpenSmileExtractor(
            str(CONFIG_DIR / "lld17.conf"),
            "lld",
            sink_level="lld17",
            options={"frameSize": float(frame_size), "frameStep": float(frame_step)},
            sample_rate=sample_rate,
        )
        self.min_seconds = max(self._smile.min_seconds, 2 * float(frame_size))

    @property
    def names(self) -> list[str]:
        return ["logF0" if n == "F0" else n for n in self._smile.names]

    @property
    def backend(self) -> dict[str, Any]:
        return self._smile.backend

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        frames = self._smile(signal, sample_rate)
        f0 = self._smile.names.index("F0")
        hz = frames[:, f0]
        frames[:, f0] = np.where(hz > 0, np.log(np.maximum(hz, 1e-12)), 0.0)
        return frames


def build(params: Mapping[str, Any]) -> Lld17Extractor:
    """``params``: ``frame_size`` and ``frame_step`` in seconds (defaults 0.025 / 0.005)."""
    return Lld17Extractor(
        frame_size=float(params.get("frame_size", 0.025)),
        frame_step=float(params.get("frame_step", 0.005)),
    )
