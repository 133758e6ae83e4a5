"""``official``: the corpus's own split, read from a manifest column ``split``.

Values: ``train``, ``valid`` (also ``validation``, ``dev``, ``development``) and
``test``; case-insensitive. MSP-Podcast's releases, for instance, ship such a split.
Options: ``test`` picks the value used as the test part (e.g. ``test=test2`` for a corpus
with two test sets); ``exclude`` lists other values whose rows are left out (comma-
separated). Any other value is an error naming the rows. Without ``valid`` rows, the
validation part is carved from ``train`` (by speaker where possible).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from serbench.errors import ConfigError
from serbench.protocols._common import (
    check_options,
    list_option,
    make_fold,
    require_column,
    sorted_manifest,
    valid_fraction,
)
from serbench.protocols.base import Fold

NAME = "official"
OPTIONS = {
    "test": "the split value used as the test part (default 'test')",
    "exclude": "comma-separated split values whose rows are left out",
}
VALID_ALIASES = ("valid", "validation", "dev", "development")


def split(manifest: pl.DataFrame, *, seed: int, options: Mapping[str, Any]) -> list[Fold]:
    """One fold named ``official`` from the ``split`` column."""
    check_options(NAME, options, OPTIONS)
    fraction = valid_fraction(NAME, options)
    require_column(NAME, manifest, "split", "it holds the corpus's official train/valid/test")
    test_value = str(options.get("test", "test")).lower()
    excluded = {v.lower() for v in list_option(options.get("exclude"))}
    df = sorted_manifest(manifest).with_columns(
        pl.col("split").cast(pl.String).str.strip_chars().str.to_lowercase().alias("_split")
    )
    known = {"train", test_value, *VALID_ALIASES}
    bad = df.filter(~pl.col("_split").is_in(list(known | excluded)))
    if bad.height:
        values = sorted(set(bad["_split"].to_list()))
        raise ConfigError(
            f"protocol 'official': {bad.height} row(s) have split value(s) {values} "
            f"(e.g. utt_id {bad['utt_id'].head(3).to_list()}); expected train, valid or "
            f"{test_value!r}. Pick the test set with test=VALUE or drop rows with "
            "exclude=VALUE,..."
        )
    train = df.filter(pl.col("_split") == "train")["utt_id"].to_list()
    valid = df.filter(pl.col("_split").is_in(list(VALID_ALIASES)))["utt_id"].to_list()
    test = df.filter(pl.col("_split") == test_value)["utt_id"].to_list()
    if not train:
        raise ConfigError("protocol 'official': no row has split 'train'")
    train_speakers = set(df.filter(pl.col("_split") == "train")["speaker"].cast(pl.String))
    test_speakers = set(df.filter(pl.col("_split") == test_value)["speaker"].cast(pl.String))
    shared = sorted(train_speakers & test_speakers)
    note = (
        f"the official split shares {len(shared)} speaker(s) between train and test "
        f"(e.g. {shared[:3]})"
        if shared
        else ""
    )
    if valid:
        return [
            Fold(name="official", train=tuple(sorted(train)), valid=tuple(sorted(valid)),
                 test=tuple(sorted(test)), note=note)
        ]
    return [make_fold("official", df, train, test, seed=seed, fraction=fraction, note=note)]
