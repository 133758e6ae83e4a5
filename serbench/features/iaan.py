"""``iaan45``: the 45 frame features of the published IAAN code.

F0, dF0, loudness, d and dd loudness, voicing probability and its delta, ZCR and its
delta, MFCC 1-12 with deltas and delta-deltas (9 + 36 = 45). The LLDs are openSMILE's
emobase LLDs (25 ms frames, 10 ms shift; F0 and voicing from its 40 ms pitch frames at
the same shift). The ``opensmile`` package has no delta-delta level, so both delta orders
are computed in serbench with openSMILE's own regression (:func:`serbench.features.deltas.delta`,
``deltawin=2``, checked against openSMILE's ``lld_de`` in the tests), which keeps LLD,
delta and delta-delta frames aligned (openSMILE's delta level is 2 frames longer).
Finally every 5 consecutive frames are averaged (50 ms per output step).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from serbench.features.deltas import delta, mean_pool
from serbench.features.opensmile_sets import OpenSmileExtractor

#: (emobase LLD name, delta orders kept) in output order
_LAYOUT: list[tuple[str, tuple[int, ...]]] = [
    ("F0_sma", (0, 1)),
    ("pcm_loudness_sma", (0, 1, 2)),
    ("voiceProb_sma", (0, 1)),
    ("pcm_zcr_sma", (0, 1)),
    *[(f"mfcc_sma[{k}]", (0, 1, 2)) for k in range(1, 13)],
]
_SUFFIX = {0: "", 1: "_de", 2: "_de_de"}


class Iaan45Extractor:
    """emobase LLDs -> 45 features per frame, mean-pooled over ``pool`` frames."""

    level: Literal["frames", "functionals"] = "frames"

    def __init__(self, pool: int = 5, sample_rate: int = 16000):
        self.pool = int(pool)
        self.sample_rate = sample_rate
        self._lld = OpenSmileExtractor("emobase", "lld", sample_rate=sample_rate)
        self.min_seconds = self._lld.min_seconds
        self.names = [name + _SUFFIX[order] for name, orders in _LAYOUT for order in orders]

    @property
    def backend(self) -> dict[str, Any]:
        return self._lld.backend

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        lld = self._lld(signal, sample_rate)
        index = {name: i for i, name in enumerate(self._lld.names)}
        d1 = delta(lld, 2)
        d2 = delta(d1, 2)
        orders = (lld, d1, d2)
        columns = [orders[o][:, index[name]] for name, keep in _LAYOUT for o in keep]
        return mean_pool(np.stack(columns, axis=1), self.pool)


def build(params: Mapping[str, Any]) -> Iaan45Extractor:
    """``params``: ``pool`` (frames averaged per output step, default 5)."""
    return Iaan45Extractor(pool=int(params.get("pool", 5)))
