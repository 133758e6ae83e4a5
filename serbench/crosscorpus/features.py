"""One feature table over the corpora of a cross-corpus run.

Each corpus's features are read through its own cache (its own fingerprint and ids, so a
cross-corpus run shares extractions with single-corpus runs) and joined under the tagged
ids of :mod:`serbench.crosscorpus.pair`. The join copies the stored rows into memory
(fine for functionals and frame sets of lab corpora; a corpus whose cache is larger
than memory needs a lazy join, not written yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from serbench.crosscorpus.pair import SEPARATOR, CrossCorpus
from serbench.errors import ConfigError
from serbench.features.table import FeatureTable


def join_tables(tables: Mapping[str, FeatureTable]) -> FeatureTable:
    """``{tag: table}`` as one table with ids ``<tag>:<utt_id>``; tables must agree on
    level and dimension names. ``info()`` keeps the first table's description, each
    table's under ``parts`` and the excluded utterances of all (tagged)."""
    first = next(iter(tables.values()))
    ids: list[str] = []
    blocks: list[np.ndarray] = []
    excluded: dict[str, Any] = {}
    for tag, table in tables.items():
        if table.level != first.level or table.names != first.names:
            raise ConfigError(f"cross-corpus: the features of {tag!r} ({table.level}, "
                              f"D={table.dim}) differ from the others' ({first.level}, "
                              f"D={first.dim}); extract them with the same parameters")
        for utt in table.ids:
            ids.append(f"{tag}{SEPARATOR}{utt}")
            blocks.append(np.atleast_2d(np.asarray(table.raw(utt), dtype=np.float32)))
        excluded.update({f"{tag}{SEPARATOR}{u}": why
                         for u, why in (table.info().get("excluded") or {}).items()})
    lengths = [b.shape[0] for b in blocks]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = np.concatenate(blocks) if blocks else np.zeros((0, first.dim), np.float32)
    info = dict(first.info())
    info["excluded"] = excluded
    info["parts"] = {tag: {k: t.info().get(k) for k in ("key", "cache", "n_utterances")}
                     for tag, t in tables.items()}
    return FeatureTable(ids, data, offsets, first.names, first.level, info)


def load_joined_features(cross: CrossCorpus, feature: str, params: Mapping[str, Any], *,
                         registry: Any, progress: bool) -> FeatureTable:
    """Every part's features through its own cache, joined (see the module docstring)."""
    from serbench.features.cache import load_features

    return join_tables({
        part.tag: load_features(part.manifest, feature, params=params,
                                fingerprint=part.fingerprint, registry=registry,
                                progress=progress)
        for part in cross.parts})
