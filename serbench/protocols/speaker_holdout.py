"""``speaker-holdout``: hold out named or sampled speakers as the test part (one fold).

Options:
    ``speakers``: comma-separated test speakers, e.g. ``speakers=03,08``.
    Without it, speakers are sampled with the seed: one female and one male when the
    manifest has a ``gender`` column naming both (values starting with ``f``/``w`` or
    ``m``, any case), otherwise ``n`` speakers (option ``n``, default 2).
Validation: ``valid_fraction`` (10%) of the training part, by speaker where possible.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from serbench.errors import ConfigError
from serbench.protocols._common import (
    check_options,
    int_option,
    list_option,
    make_fold,
    sorted_manifest,
    valid_fraction,
)
from serbench.protocols.base import Fold

NAME = "speaker-holdout"
OPTIONS = {
    "speakers": "comma-separated test speakers (default: one female and one male, sampled)",
    "n": "number of sampled test speakers when there is no usable gender column (default 2)",
}


def _gender_key(value: Any) -> str | None:
    """'female', 'male' or None from values like F, f, female, W, M, male."""
    text = str(value or "").strip().lower()
    if text[:1] in ("f", "w"):
        return "female"
    if text[:1] == "m":
        return "male"
    return None


def _sample_speakers(df: pl.DataFrame, speakers: list[str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    if "gender" in df.columns:
        by_gender: dict[str, set[str]] = {"female": set(), "male": set()}
        pairs = df.select(pl.col("speaker").cast(pl.String), pl.col("gender")).unique()
        for speaker, gender in pairs.iter_rows():
            key = _gender_key(gender)
            if key is not None:
                by_gender[key].add(speaker)
        if by_gender["female"] and by_gender["male"]:
            picked = []
            for gender in ("female", "male"):
                pool = sorted(by_gender[gender])
                picked.append(pool[int(rng.integers(len(pool)))])
            return sorted(picked)
    if n >= len(speakers):
        raise ConfigError(
            f"protocol 'speaker-holdout': cannot hold out n={n} of {len(speakers)} speakers "
            "and keep any for training; lower n"
        )
    return sorted(speakers[i] for i in rng.permutation(len(speakers))[:n])


def split(manifest: pl.DataFrame, *, seed: int, options: Mapping[str, Any]) -> list[Fold]:
    """A single fold whose test part is the held-out speakers' utterances."""
    check_options(NAME, options, OPTIONS)
    fraction = valid_fraction(NAME, options)
    n = int_option(NAME, options, "n", 2, minimum=1)
    df = sorted_manifest(manifest)
    spk = df["speaker"].cast(pl.String)
    speakers = sorted(set(spk.to_list()))
    named = list_option(options.get("speakers"))
    if named:
        unknown = [s for s in named if s not in speakers]
        if unknown:
            hints = [
                f"{s!r} (did you mean {close[0]!r}?)" if close else repr(s)
                for s in unknown
                for close in [difflib.get_close_matches(s, speakers, n=1)]
            ]
            raise ConfigError(
                f"protocol 'speaker-holdout': unknown speaker(s) {', '.join(hints)}; "
                f"speakers in this manifest: {speakers}"
            )
        test_speakers = sorted(set(named))
        if len(test_speakers) == len(speakers):
            raise ConfigError(
                "protocol 'speaker-holdout': every speaker is held out, none is left for "
                "training"
            )
    else:
        test_speakers = _sample_speakers(df, speakers, n, seed)
    is_test = spk.is_in(test_speakers)
    return [
        make_fold(
            "+".join(test_speakers),
            df,
            df.filter(~is_test)["utt_id"].to_list(),
            df.filter(is_test)["utt_id"].to_list(),
            seed=seed,
            fraction=fraction,
        )
    ]
