"""``kfold``: stratified k-fold cross-validation, optionally grouped by speaker.

Options: ``k`` (default 5) and ``grouped`` (a manifest column, normally ``speaker``).
Without ``grouped`` a speaker may appear in training and test of one fold (stated in the
fold's note); with ``grouped=speaker`` scikit-learn's ``StratifiedGroupKFold`` keeps each
speaker in one test fold while balancing labels as far as the groups allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from serbench.errors import ConfigError
from serbench.protocols._common import (
    check_options,
    fold_seed,
    int_option,
    make_fold,
    require_column,
    sorted_manifest,
    valid_fraction,
)
from serbench.protocols.base import Fold

NAME = "kfold"
OPTIONS = {
    "k": "number of folds (default 5)",
    "grouped": "a column whose values never straddle train and test, e.g. 'speaker'",
}
LEAK_NOTE = (
    "utterance-level stratified k-fold: a speaker can be in training and test of the same "
    "fold (not speaker-independent); use grouped=speaker for speaker-grouped folds"
)


def split(manifest: pl.DataFrame, *, seed: int, options: Mapping[str, Any]) -> list[Fold]:
    """``k`` label-stratified folds; each utterance is tested exactly once."""
    check_options(NAME, options, OPTIONS)
    fraction = valid_fraction(NAME, options)
    k = int_option(NAME, options, "k", 5, minimum=2)
    group = options.get("grouped") or None
    df = sorted_manifest(manifest)
    ids = np.array(df["utt_id"].to_list())
    labels = np.array(df["label"].cast(pl.String).to_list())
    # sklearn seeds through a 32-bit RandomState
    random_state = int(seed) % (2**32)
    try:
        if group is None:
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
            splits = list(splitter.split(ids, labels))
        else:
            require_column(NAME, df, str(group), f"grouped={group}")
            groups = np.array(df[str(group)].cast(pl.String).to_list())
            n_groups = len(set(groups.tolist()))
            if n_groups < k:
                raise ConfigError(
                    f"protocol 'kfold': k={k} folds need at least {k} distinct {group!r} "
                    f"values; the manifest has {n_groups}. Lower k."
                )
            splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=random_state)
            splits = list(splitter.split(ids, labels, groups))
    except ValueError as exc:  # sklearn's own checks (e.g. k > utterances of every class)
        raise ConfigError(f"protocol 'kfold' with k={k} cannot split this manifest: {exc}") from exc
    note = LEAK_NOTE if group is None else ""
    by_speaker = group == "speaker"
    return [
        make_fold(
            f"fold{index + 1}",
            df,
            ids[train_idx].tolist(),
            ids[test_idx].tolist(),
            seed=fold_seed(seed, index),
            fraction=fraction,
            # without grouping, a speaker-disjoint validation part would still share
            # speakers with the test part: stratify by label instead
            by_speaker=by_speaker,
            note=note,
        )
        for index, (train_idx, test_idx) in enumerate(splits)
    ]
