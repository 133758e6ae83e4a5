"""Shared set-up of the run-pipeline tests: a tiny corpus and a registry with toy features.

The toy feature plugin registers ``toy_frames`` and ``toy_functionals``; tests hand the
pipeline an in-memory table for them (``run_experiment(features=...)``), so no audio is
read and no extractor runs.
"""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import polars as pl

from serbench import hookimpl
from serbench.components import FeatureSpec
from serbench.plugins import Registry, make_plugin_manager
from serbench.testing.tables import synthetic_frames

TINY_HPARAMS = {"hidden": 8, "batch_size": 8, "patience": 50}


def toy_plugin() -> types.SimpleNamespace:
    @hookimpl
    def register_features(register):
        for level in ("frames", "functionals"):
            register(FeatureSpec(
                name=f"toy_{level}", version=1, description=f"Toy {level} for tests.",
                extractor="serbench.testing.tables:synthetic_frames", level=level,
            ))

    return types.SimpleNamespace(register_features=register_features)


def toy_registry() -> Registry:
    return Registry(make_plugin_manager(extra_plugins=[("toy_features", toy_plugin())]))


def toy_table(csv: Path, level: str = "frames"):
    """A learnable in-memory table for every utterance of the tiny corpus's manifest."""
    manifest = pl.read_csv(csv)
    labels = sorted(manifest["label"].unique().to_list())
    arrays = synthetic_frames(
        manifest["utt_id"].to_list(), [labels.index(x) for x in manifest["label"].to_list()],
        dim=4, level=level, max_len=8,
    )
    from serbench.features.table import FeatureTable

    return FeatureTable.from_arrays(
        {u: arrays[u] for u in arrays}, arrays.names, level,
        info={"name": f"toy_{level}", "version": 1, "backend": {"numpy": "test"}},
    )


DOC = Path(__file__).resolve().parents[1] / "docs" / "run-record.md"
# mappings whose keys depend on the run (checked elsewhere or free-form)
FREE_KEYS = {"corpus.options", "protocol.options", "feature.params", "feature.backend",
             "model.hyperparameters", "model.search_space", "training.config",
             "folds.metrics.per_class_recall", "aggregate.pooled.per_class_recall"}


def documented_record() -> dict:
    text = DOC.read_text()
    block = re.search(r"```json\n(.*?)\n```", text, re.S).group(1)
    return json.loads(block)


def missing_fields(doc, actual, path="") -> list[str]:
    """Paths of fields in the documented example that ``actual`` lacks."""
    out = []
    if isinstance(doc, dict):
        if path.strip(".") in FREE_KEYS:
            return []
        if not isinstance(actual, dict):
            return [path or "(root)"]
        for key, value in doc.items():
            if key not in actual:
                out.append(f"{path}{key}")
            elif actual[key] is not None:
                out += missing_fields(value, actual[key], f"{path}{key}.")
    elif isinstance(doc, list) and doc and isinstance(doc[0], dict):
        for item in actual or []:
            out += missing_fields(doc[0], item, path)
    return out
