"""The feature extractor contract.

``FeatureSpec.extractor`` resolves to ``build(params: Mapping[str, Any]) ->
FeatureExtractor``. The cache (``serbench.features.cache``) calls the extractor once
per utterance and stores the result; runs read the cache, never the extractor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class FeatureExtractor(Protocol):
    """Turns one utterance's audio into features.

    Attributes:
        level: ``"frames"`` -> ``__call__`` returns (T, D); ``"functionals"`` -> (D,).
        sample_rate: the rate ``signal`` is given at (the cache resamples first).
        names: the D dimension names.
        backend: ``{library: version}`` of what computed it (part of the cache key).
    """

    level: Literal["frames", "functionals"]
    sample_rate: int
    names: list[str]
    backend: Mapping[str, Any]

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """signal: (N,) float32 mono in [-1, 1] -> (T, D) or (D,) float32."""
        ...
