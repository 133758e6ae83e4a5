"""``loso-speaker``: leave one speaker out. One fold per speaker, named after it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from serbench.protocols._common import (
    check_options,
    fold_seed,
    make_fold,
    sorted_manifest,
    valid_fraction,
)
from serbench.protocols.base import Fold

NAME = "loso-speaker"


def split(manifest: pl.DataFrame, *, seed: int, options: Mapping[str, Any]) -> list[Fold]:
    """One fold per speaker: that speaker's utterances are the test part.

    Validation is carved from the other speakers (by speaker when there are >= 3).
    """
    check_options(NAME, options, {})
    fraction = valid_fraction(NAME, options)
    df = sorted_manifest(manifest)
    speakers = sorted(set(df["speaker"].cast(pl.String).to_list()))
    folds = []
    for index, speaker in enumerate(speakers):
        is_test = df["speaker"].cast(pl.String) == speaker
        folds.append(
            make_fold(
                speaker,
                df,
                df.filter(~is_test)["utt_id"].to_list(),
                df.filter(is_test)["utt_id"].to_list(),
                seed=fold_seed(seed, index),
                fraction=fraction,
            )
        )
    return folds
