"""Checks on the folds a protocol produced, before any training starts."""

from __future__ import annotations

import polars as pl

from serbench.errors import ConfigError
from serbench.protocols.base import Fold


def folds_short_of_speakers(folds: list[Fold], manifest: pl.DataFrame,
                            needed: int = 2) -> list[str]:
    """Names of the folds whose development part (train + valid) has fewer than ``needed``
    speakers: ``inner_folds`` cannot cross-validate among them."""
    speakers = dict(zip(manifest["utt_id"].to_list(), manifest["speaker"].to_list(), strict=True))
    return [fold.name for fold in folds
            if len({speakers.get(u) for u in (*fold.train, *fold.valid)} - {None}) < needed]


def check_folds(folds: list[Fold], manifest: pl.DataFrame, protocol: str, needs_valid: bool,
                inner_folds: int = 0) -> None:
    """Each fold must have training and test utterances (and validation, for torch models;
    and two development speakers or more when the epoch count is cross-validated among them,
    ``inner_folds``)."""
    if not folds:
        raise ConfigError(f"protocol {protocol!r} produced no folds for this corpus")
    speakers = dict(zip(manifest["utt_id"].to_list(), manifest["speaker"].to_list(), strict=True))
    problems = []
    for fold in folds:
        fold.check_disjoint()
        if not fold.test or not {speakers.get(u) for u in fold.test} - {None}:
            problems.append(f"fold {fold.name!r} has no test speakers/utterances")
        if not fold.train:
            problems.append(f"fold {fold.name!r} has no training utterances")
        dev_speakers = {speakers.get(u) for u in (*fold.train, *fold.valid)} - {None}
        if inner_folds and len(dev_speakers) < 2:
            problems.append(
                f"fold {fold.name!r} has {len(dev_speakers)} development speaker(s); "
                f"inner_folds={inner_folds} validates on speakers it holds out and needs 2 or "
                "more (drop --set inner_folds)"
            )
        if needs_valid and not inner_folds and not fold.valid:
            problems.append(
                f"fold {fold.name!r} has no validation utterances (early stopping needs them)"
            )
    if problems:
        raise ConfigError(
            f"protocol {protocol!r} cannot be used on this corpus: " + "; ".join(problems)
            + ". Choose another protocol or add speakers/utterances."
        )
