"""A run record's summary as plain data: what ``serbench run --json`` prints on stdout.

Scripts and notebooks that start runs need the run id, its folder and the headline
scores without parsing tables; the full record stays in ``record.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the headline metrics, as the record names them
HEADLINE = ("ua", "wa", "macro_f1")


def _pick(scores: Mapping[str, Any] | None) -> dict[str, float | None]:
    scores = scores or {}
    return {name: scores.get(name) for name in HEADLINE}


def record_summary(record: Mapping[str, Any], folder: Path | str) -> dict[str, Any]:
    """Run id, folder, UA/WA/F1 (mean and std over folds, pooled over every test
    utterance), per-fold UA and the timing block of one run record (fractions, not %)."""
    aggregate = record.get("aggregate") or {}
    return {
        "run_id": record["run_id"],
        "folder": str(folder),
        "record": str(Path(folder) / "record.json"),
        "status": record.get("status"),
        "model": (record.get("model") or {}).get("name"),
        "variant": (record.get("model") or {}).get("variant"),
        "seed": (record.get("training") or {}).get("seed"),
        "mean": _pick(aggregate.get("mean")),
        "std": _pick(aggregate.get("std")),
        "pooled": _pick(aggregate.get("pooled")),
        "folds": {fold["name"]: (fold.get("metrics") or {}).get("ua")
                  for fold in record.get("folds") or []},
        "timing": dict(record.get("timing") or {}),
    }
