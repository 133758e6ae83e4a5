"""``loso``: leave one session out (IEMOCAP's five sessions give five folds).

Speaker independence needs every speaker to belong to one session, as in IEMOCAP. Where a
test session's speaker also appears in other sessions, those training utterances are
dropped (and the fold's note says how many), so the test speakers stay unseen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from serbench.errors import ConfigError
from serbench.protocols._common import (
    check_options,
    fold_seed,
    make_fold,
    require_column,
    sorted_manifest,
    valid_fraction,
)
from serbench.protocols.base import Fold

NAME = "loso"


def split(manifest: pl.DataFrame, *, seed: int, options: Mapping[str, Any]) -> list[Fold]:
    """One fold per ``session`` value: its utterances are the test part."""
    check_options(NAME, options, {})
    fraction = valid_fraction(NAME, options)
    require_column(NAME, manifest, "session", "it leaves one session out per fold")
    df = sorted_manifest(manifest).with_columns(
        pl.col("session").cast(pl.String).alias("_session"),
        pl.col("speaker").cast(pl.String).alias("_speaker"),
    )
    sessions = sorted(set(df["_session"].to_list()))
    if len(sessions) < 2:
        raise ConfigError(
            f"protocol 'loso' needs at least two sessions; the manifest has {sessions}. "
            "Use loso-speaker or kfold instead."
        )
    folds = []
    for index, session in enumerate(sessions):
        test = df.filter(pl.col("_session") == session)
        test_speakers = set(test["_speaker"].to_list())
        rest = df.filter(pl.col("_session") != session)
        train = rest.filter(~pl.col("_speaker").is_in(list(test_speakers)))
        dropped = rest.height - train.height
        note = ""
        if dropped:
            note = (
                f"{dropped} training utterance(s) of the test session's speakers recorded in "
                "other sessions were left out to keep the fold speaker-independent"
            )
        if train.height == 0:
            raise ConfigError(
                f"protocol 'loso', fold {session!r}: every speaker of this session also "
                "speaks in all other sessions, so no speaker-independent training part "
                "is left. Use loso-speaker or kfold with grouped=speaker."
            )
        folds.append(
            make_fold(
                session,
                df,
                train["utt_id"].to_list(),
                test["utt_id"].to_list(),
                seed=fold_seed(seed, index),
                fraction=fraction,
                note=note,
            )
        )
    return folds
