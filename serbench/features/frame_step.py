"""Seconds between consecutive frames of a frame-level feature, where it is known.

``serbench explain`` uses it to put attention on a time axis in seconds. The hop of each
built-in frame-level feature:

- a ``frame_step`` parameter (``lld17`` 5 ms, ``lld17_drn`` and ``st36`` 10 ms): that;
- the openSMILE sets' LLDs (``<set>_lld``, ``<set>_lld_de``, ``compare_lld``): 10 ms,
  the ``frameStep = 0.010`` of every openSMILE LLD configuration;
- ``iaan45``: emobase LLDs at 10 ms, mean-pooled over ``pool`` frames (50 ms);
- any other feature (a plugin's, e.g. ``ssl``): unknown (``None``), and ``explain``
  falls back to the audio's duration divided by the frame count, or to frame indices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: the frame step of every openSMILE LLD configuration (their ``frameStep = 0.010``)
OPENSMILE_LLD_STEP = 0.010


def frame_step(spec: Any, params: Mapping[str, Any]) -> float | None:
    """The hop in seconds of feature ``spec`` (a FeatureSpec) with ``params`` (its
    defaults merged with the run's), or ``None`` when the feature does not say."""
    if spec.level != "frames":
        return None
    if params.get("frame_step"):
        return float(params["frame_step"])
    if spec.extractor == "serbench.features.iaan:build":
        return OPENSMILE_LLD_STEP * int(params.get("pool", 1) or 1)
    if spec.extractor == "serbench.features.opensmile_sets:build" and str(
            params.get("level", "")).startswith("lld"):
        return OPENSMILE_LLD_STEP
    return None
