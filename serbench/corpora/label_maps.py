"""A corpus's label maps without its data: what ``serbench corpus info NAME --label-maps`` shows.

A corpus plugin names its label maps in ``CorpusSpec.label_maps``; the maps themselves
are plain data beside its loader, a module-level ``LABEL_MAPS`` dict (name ->
:class:`~serbench.components.LabelMap`) in the loader's module (serbench's built-in
corpora all do this). Reading it imports that module only, never the audio or manifest.
A corpus whose maps depend on its data (the ``manifest`` corpus builds ``all`` from the
labels it finds) or that keeps no ``LABEL_MAPS`` gets ``None`` and a reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from serbench.components import CorpusSpec, LabelMap


@dataclass(frozen=True)
class DeclaredLabelMaps:
    """The label maps a corpus declares, or why they cannot be shown without its data."""

    corpus: str
    maps: dict[str, LabelMap] | None
    reason: str = ""


def declared_label_maps(spec: CorpusSpec) -> DeclaredLabelMaps:
    """The ``LABEL_MAPS`` beside the corpus's loader, restricted to the names the spec
    registers (in its order)."""
    loader = spec.loader
    module_name = loader.partition(":")[0] if isinstance(loader, str) else loader.__module__
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return DeclaredLabelMaps(spec.name, None, f"cannot import {module_name!r}: {exc}")
    maps = getattr(module, "LABEL_MAPS", None)
    if not isinstance(maps, Mapping):
        return DeclaredLabelMaps(
            spec.name, None,
            f"corpus {spec.name!r} builds its label maps ({', '.join(spec.label_maps)}) from "
            "its data: give --data and drop --label-maps to see them with the counts")
    found = {name: maps[name] for name in spec.label_maps if name in maps}
    return DeclaredLabelMaps(spec.name, found)


def label_map_table(label_map: LabelMap) -> dict[str, Any]:
    """One label map as plain data: its classes, raw label -> class, and any row filter."""
    return {
        "name": label_map.name,
        "description": label_map.description,
        "classes": list(label_map.classes),
        "mapping": dict(label_map.mapping),
        "where": {column: list(values) for column, values in label_map.where.items()},
    }
