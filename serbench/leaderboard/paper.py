"""The paper's reported number beside the measured one, where the benchmark matches.

A model spec lists its paper's results (``ModelSpec.paper_results``: variant, corpus,
metrics). A row gets the reported score of its primary metric when a result names the
row's variant (or the model itself for a row without variant), the benchmark's corpus
is the result's corpus, and the model's ``preferred["label_map"]``, where declared, is
the benchmark's label map. Anything else (the synthetic corpus, another label map, a
model that is not installed) shows nothing: an unmatched number would mislead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _spec(model: str) -> Any:
    from serbench.plugins import get_registry

    try:
        return get_registry().model(model)
    except Exception:  # not installed here, or the registry cannot load: show nothing
        return None


def reported(group: Mapping[str, Any], *, corpus: str, label_map: str | None,
             metric: str) -> dict[str, Any] | None:
    """``{"value" (fraction), "label"}`` of the paper's ``metric`` for this row, or ``None``."""
    spec = _spec(group["model"])
    if spec is None or not getattr(spec, "paper_results", ()):
        return None
    preferred_map = (getattr(spec, "preferred", None) or {}).get("label_map")
    if preferred_map is not None and preferred_map != label_map:
        return None
    wanted = group.get("variant") or group["model"]
    for result in spec.paper_results:
        if result.corpus != corpus or result.variant != wanted:
            continue
        value = result.metrics.get(metric)
        if value is None:
            continue
        value = float(value)
        return {"value": value / 100 if value > 1 else value,  # papers report percent
                "label": result.label or result.variant}
    return None
