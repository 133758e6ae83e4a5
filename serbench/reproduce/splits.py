"""One split for every row of a reproduction.

The folds are resolved once, from the reproduced model's own settings (its paper
protocol, after the user's flags): label map, protocol, protocol options and, where the
paper compared its systems on one feature set, the feature set with its parameters and
normalisation. Every row then runs with these settings given explicitly, so with one
seed every run record carries one split hash. A comparison system that reads another
input kind (functionals where the reproduced model reads frames) keeps its own feature
set, and its row says so. :func:`check_one_split` verifies the records themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from serbench.errors import ConfigError
from serbench.plugins import Registry
from serbench.run.config import RunConfig


@dataclass(frozen=True)
class SharedSettings:
    """The run settings every row of a reproduction shares."""

    label_map: str
    protocol: str
    protocol_options: Mapping[str, Any]
    feature: str
    feature_level: str
    feature_params: Mapping[str, Any]
    normalisation: str


def shared_settings(config: RunConfig, registry: Registry) -> SharedSettings:
    """Resolve ``config`` (the reproduced model's first row) and keep what rows share.

    Loads the corpus and builds the folds (as the run would), trains nothing; bad input
    (unknown corpus, label map, protocol, fold) stops here, before any row runs.
    """
    from serbench.run.resolve import resolve_run

    res = resolve_run(config, registry)
    return SharedSettings(
        label_map=res.label_map, protocol=res.protocol_entry.spec.name,
        protocol_options=dict(res.protocol_options), feature=res.feature_entry.spec.name,
        feature_level=str(res.feature_entry.spec.level),
        feature_params=dict(res.feature_params), normalisation=res.normalisation,
    )


def row_config(base: RunConfig, model: str, variant: str | None, shared: SharedSettings,
               registry: Registry) -> tuple[RunConfig, str]:
    """The configuration of one row, and the note its feature cell carries ("" if none).

    Args:
        base: the user's settings (corpus, seed, folds, budget, ...).
        model, variant: the row's system.
        shared: the settings from :func:`shared_settings`.
    """
    spec = registry.model(model)
    config = dataclasses.replace(
        base, model=model, variant=variant, label_map=shared.label_map,
        protocol=shared.protocol, protocol_options=dict(shared.protocol_options))
    if spec.level != shared.feature_level:
        preferred = dict(spec.preferred)
        per_corpus = preferred.get(base.corpus)
        own = ((per_corpus.get("feature") if isinstance(per_corpus, Mapping) else None)
               or preferred.get("feature") or spec.default_feature)
        return dataclasses.replace(config, feature=own), (
            f"own feature set: {model} reads {spec.level}, the shared {shared.feature} is "
            f"{shared.feature_level}")
    return dataclasses.replace(config, feature=shared.feature,
                               feature_params=dict(shared.feature_params),
                               normalisation=shared.normalisation), ""


def check_one_split(records: Mapping[str, Mapping[str, Any]]) -> str:
    """The one split hash of ``records`` (row label -> run record of one seed).

    Raises:
        ConfigError: the records carry more than one split hash (or none); the message
            names every row and its hash.
    """
    hashes = {label: (r.get("protocol") or {}).get("split_hash") for label, r in records.items()}
    distinct = set(hashes.values())
    if len(distinct) == 1 and None not in distinct:
        return next(iter(distinct))
    listing = "; ".join(f"{label}: {h or 'no split hash'}" for label, h in hashes.items())
    raise ConfigError(
        f"the rows of this reproduction were not run on one split ({listing}); their "
        "scores are not comparable, so no table is printed. Re-run them with the same "
        "corpus, label map, protocol, protocol options and seed (serbench reproduce does "
        "this), or remove the runs made otherwise with --force."
    )
