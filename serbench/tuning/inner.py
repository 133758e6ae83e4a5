"""Inner validation splits: where a trial trains and is scored, never seeing a test fold.

For each of the first ``n`` outer folds of the protocol, the fold's training part
(its ``train`` plus ``valid`` ids) is the trial's whole world:

* ``score``: a speaker-disjoint split carved from it (:func:`carve_validation`,
  ``fraction`` of its speakers); the trial's objective is measured here;
* ``valid``: carved again from the rest, for early stopping and pruning reports;
* ``train``: the rest.

The outer fold's test ids are never loaded: the feature table handed to a trial is
restricted (:meth:`FeatureTable.subset`) to the outer training part, the manifest too,
and normalisation is fitted on the inner ``train`` ids only. For models reading
dialogue context, context turns come from the corpus manifest minus the outer test ids
(so a context turn of a test utterance is never read either).

With fewer than three speakers in a part, :func:`carve_validation` falls back to a
label-stratified utterance split; ``speaker_disjoint`` then says False and the tuner
warns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from serbench.errors import ConfigError
from serbench.protocols.api import carve_validation
from serbench.protocols.base import Fold

#: share of the outer training part's speakers that score a trial
SCORE_FRACTION = 0.25
#: share of the remaining speakers used for early stopping inside a trial
VALID_FRACTION = 0.15


@dataclass
class InnerSplit:
    """One inner split: ``fold`` (train/valid/test = inner train/valid/score) and data.

    Attributes:
        outer: the outer fold's name (its test part is excluded).
        fold: inner train / valid (early stopping) / test (= the scoring split).
        excluded: the outer test ids (never in ``manifest`` or ``features``).
        manifest: experiment manifest rows of the outer training part only.
        context_manifest: corpus manifest minus ``excluded`` (context models), else None.
        features: normalised feature table restricted to the allowed ids.
        speaker_disjoint: whether train, valid and score share no speaker.
    """

    outer: str
    fold: Fold
    excluded: frozenset[str]
    manifest: pl.DataFrame
    context_manifest: pl.DataFrame | None
    features: Any
    speaker_disjoint: bool

    def describe(self) -> dict[str, Any]:
        """For the study's user attributes: sizes and speakers of each part."""
        speaker_of = dict(zip(self.manifest["utt_id"].to_list(),
                              self.manifest["speaker"].cast(pl.String).to_list(), strict=True))
        parts = {"train": self.fold.train, "valid": self.fold.valid, "score": self.fold.test}
        return {
            "outer_fold": self.outer,
            **{f"n_{k}": len(v) for k, v in parts.items()},
            **{f"{k}_speakers": sorted({speaker_of[u] for u in v}) for k, v in parts.items()},
            "speaker_disjoint": self.speaker_disjoint,
        }


def _speakers(manifest: pl.DataFrame, ids: Sequence[str]) -> set[str]:
    part = manifest.filter(pl.col("utt_id").is_in(list(ids)))
    return set(part["speaker"].cast(pl.String).to_list())


def inner_splits(
    manifest: pl.DataFrame,
    outer_folds: Sequence[Fold],
    *,
    n: int,
    seed: int,
    features: Any,
    normalisation: str,
    context_manifest: pl.DataFrame | None = None,
    score_fraction: float = SCORE_FRACTION,
    valid_fraction: float = VALID_FRACTION,
) -> list[InnerSplit]:
    """The inner splits of the first ``n`` outer folds, with their restricted data.

    Args:
        manifest: the experiment manifest (label map applied).
        outer_folds: the protocol's folds.
        n: how many outer folds give an inner split (1 = cheapest).
        seed: seeds the carving (split ``k`` uses ``seed + k``).
        features: the feature table of the whole corpus (loaded once, shared).
        normalisation: ``none``/``utterance``/``speaker``/``global``, fitted on inner train.
        context_manifest: the corpus manifest, for models reading dialogue context.
    """
    from serbench.features.normalise import normalise

    if n < 1:
        raise ConfigError(f"--inner-folds must be >= 1, got {n}")
    if n > len(outer_folds):
        raise ConfigError(f"--inner-folds {n}: the protocol has only {len(outer_folds)} "
                          "outer fold(s)")
    splits = []
    for k, outer in enumerate(outer_folds[:n]):
        pool = sorted({*outer.train, *outer.valid})
        excluded = frozenset(outer.test)
        rest, score = carve_validation(manifest, pool, seed=seed + k, fraction=score_fraction)
        train, valid = carve_validation(manifest, rest, seed=seed + k, fraction=valid_fraction)
        if not train or not valid or not score:
            raise ConfigError(
                f"outer fold {outer.name!r}: its training part ({len(pool)} utterances) is too "
                "small for inner train/valid/score splits; use a larger corpus or "
                "another protocol"
            )
        fold = Fold(name=f"{outer.name}/inner", train=tuple(train), valid=tuple(valid),
                    test=tuple(score), note="inner split of the outer training part")
        fold.check_disjoint()
        part_manifest = manifest.filter(pl.col("utt_id").is_in(pool))
        ctx = None
        allowed = pool
        if context_manifest is not None:
            ctx = context_manifest.filter(~pl.col("utt_id").is_in(list(excluded)))
            allowed = [u for u in ctx["utt_id"].to_list() if u in features]
        table = features.subset([u for u in allowed if u in features])
        norm_source = ctx if ctx is not None else part_manifest
        table = normalise(table, norm_source, normalisation, list(fold.train))
        spk = [_speakers(manifest, ids) for ids in (train, valid, score)]
        disjoint = not (spk[0] & spk[1] or spk[0] & spk[2] or spk[1] & spk[2])
        splits.append(InnerSplit(outer=outer.name, fold=fold, excluded=excluded,
                                 manifest=part_manifest, context_manifest=ctx,
                                 features=table, speaker_disjoint=disjoint))
    return splits
