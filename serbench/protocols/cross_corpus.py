"""``cross-corpus``: train and validate on the training corpora, test on another corpus.

Reads the joined manifest of :mod:`serbench.crosscorpus.pair` (``serbench run --corpus A
--test-corpus B``): its ``role`` column says which rows are tested on. One fold, named
after the pair (``nemo-to-synthetic``); its test part is every row of the test corpus,
its validation part whole speakers of the training corpora (``valid_fraction`` of them,
at least one; by utterance when they have fewer than three speakers), its training part
the rest. Speakers are tagged with their corpus, so no speaker is on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from serbench.errors import ConfigError
from serbench.protocols._common import check_options, make_fold, sorted_manifest, valid_fraction
from serbench.protocols.base import Fold

NAME = "cross-corpus"
OPTIONS: dict[str, str] = {}


def split(manifest: pl.DataFrame, *, seed: int, options: Mapping[str, Any]) -> list[Fold]:
    """The single cross-corpus fold (see the module docstring)."""
    check_options(NAME, options, OPTIONS)
    fraction = valid_fraction(NAME, options)
    if "role" not in manifest.columns or "corpus" not in manifest.columns:
        raise ConfigError(
            f"protocol {NAME!r} tests on another corpus: run it with --test-corpus NAME "
            "(it needs the joined manifest's 'role' and 'corpus' columns)")
    df = sorted_manifest(manifest)
    roles = set(df["role"].to_list())
    if roles != {"train", "test"}:
        raise ConfigError(f"protocol {NAME!r}: the manifest needs rows of role 'train' and "
                          f"'test', it has {sorted(roles)}")
    is_test = pl.col("role") == "test"
    train_corpora = sorted(set(df.filter(~is_test)["corpus"].to_list()))
    test_corpora = sorted(set(df.filter(is_test)["corpus"].to_list()))
    name = "+".join(train_corpora) + "-to-" + "+".join(test_corpora)
    return [make_fold(name, df, df.filter(~is_test)["utt_id"].to_list(),
                      df.filter(is_test)["utt_id"].to_list(), seed=seed, fraction=fraction)]
