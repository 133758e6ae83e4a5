"""``holdout``: one seeded 8:1:1 train/valid/test split over utterances, label-stratified.

Not speaker-independent: a speaker's utterances land in all three parts. The fold's note
says so, and the run record carries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from serbench.errors import ConfigError
from serbench.protocols._common import check_options, sorted_manifest, stratified_sample
from serbench.protocols.base import Fold

NAME = "holdout"
NOTE = (
    "utterance-level 8:1:1 holdout: the same speakers appear in training, validation and "
    "test, so scores are speaker-dependent and higher than speaker-independent ones"
)


def split(manifest: pl.DataFrame, *, seed: int, options: Mapping[str, Any]) -> list[Fold]:
    """A single fold named ``holdout``: 10% test, then 1/9 of the rest as validation."""
    # the 8:1:1 ratio is the protocol's identity, so valid_fraction is not offered
    check_options(NAME, options, {})
    if "valid_fraction" in options:
        raise ConfigError("protocol 'holdout' is a fixed 8:1:1 split; drop valid_fraction")
    df = sorted_manifest(manifest)
    rng = np.random.default_rng(seed)
    ids = df["utt_id"].to_list()
    labels = df["label"].cast(pl.String).to_list()
    test = set(stratified_sample(ids, labels, 0.1, rng))
    rest = [(u, lab) for u, lab in zip(ids, labels, strict=True) if u not in test]
    valid = set(
        stratified_sample([u for u, _ in rest], [lab for _, lab in rest], 1 / 9, rng)
    )
    train = [u for u, _ in rest if u not in valid]
    return [
        Fold(
            name="holdout",
            train=tuple(sorted(train)),
            valid=tuple(sorted(valid)),
            test=tuple(sorted(test)),
            note=NOTE,
        )
    ]
