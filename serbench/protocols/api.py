"""Folds from a manifest: ``make_folds`` looks a protocol up, runs it and checks its folds.

Every fold is checked before anything trains: train, validation and test are pairwise
disjoint and non-empty, every id is in the manifest, fold names are unique, and a
protocol that declares itself speaker-independent shares no speaker between a fold's
test part and its training or validation parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from serbench.errors import ConfigError, SerbenchError
from serbench.lazy import resolve
from serbench.plugins import Registry, get_registry
from serbench.protocols._common import carve_validation
from serbench.protocols.base import Fold, split_hash

__all__ = [
    "carve_validation",
    "check_folds",
    "fold_speakers",
    "is_speaker_independent",
    "make_folds",
    "split_hash",
]


def make_folds(
    manifest: pl.DataFrame,
    protocol: str,
    *,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
) -> list[Fold]:
    """The folds of ``protocol`` on ``manifest`` (after its label map), checked.

    Args:
        manifest: the experiment manifest (``utt_id``, ``speaker``, ``label``, ...).
        protocol: a registered protocol name; unknown names get a did-you-mean error.
        seed: the only source of randomness; equal inputs give equal folds.
        options: protocol options (``--protocol-option KEY=VALUE``; values may be strings).
        registry: defaults to the process-wide registry of installed plugins.

    Raises:
        ConfigError: bad options, or a fold with an empty test/train/validation part.
        SerbenchError: a protocol that broke the fold contract (overlap, unknown ids).
    """
    registry = registry or get_registry()
    spec = registry.protocol(protocol)
    missing = [c for c in ("utt_id", "speaker", "label") if c not in manifest.columns]
    if missing:
        raise ConfigError(f"protocol {protocol!r}: the manifest lacks column(s) {missing}")
    folds = list(resolve(spec.split)(manifest, seed=seed, options=dict(options or {})))
    check_folds(manifest, folds, protocol=protocol,
                speaker_independent=spec.speaker_independent)
    return folds


def check_folds(
    manifest: pl.DataFrame,
    folds: Sequence[Fold],
    *,
    protocol: str,
    speaker_independent: bool,
) -> None:
    """Enforce the fold contract (see the module docstring); raise naming the fold."""
    if not folds:
        raise ConfigError(f"protocol {protocol!r} produced no folds for this manifest")
    names = [f.name for f in folds]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SerbenchError(f"protocol {protocol!r} produced duplicate fold names {duplicates}")
    known_ids = set(manifest["utt_id"].to_list())
    speaker_of = dict(
        zip(manifest["utt_id"].to_list(), manifest["speaker"].cast(pl.String).to_list(),
            strict=True)
    )
    for fold in folds:
        where = f"protocol {protocol!r}, fold {fold.name!r}"
        parts = {"train": set(fold.train), "valid": set(fold.valid), "test": set(fold.test)}
        for part, ids in parts.items():
            if not ids:
                what = "no test speakers / test utterances" if part == "test" else f"an empty {part} part"
                raise ConfigError(
                    f"{where} has {what}; the corpus (after its label map) is too small or "
                    "too unbalanced for this protocol. Choose another protocol or label map."
                )
            unknown = ids - known_ids
            if unknown:
                raise SerbenchError(
                    f"{where}: {part} holds ids not in the manifest, e.g. {sorted(unknown)[:5]}"
                )
        for a, b in (("train", "valid"), ("train", "test"), ("valid", "test")):
            shared = parts[a] & parts[b]
            if shared:
                raise SerbenchError(
                    f"{where}: {a} and {b} share {len(shared)} utterance(s), e.g. "
                    f"{sorted(shared)[:5]}"
                )
        fold.check_disjoint()
        if speaker_independent:
            test_spk = {speaker_of[u] for u in fold.test}
            seen = {speaker_of[u] for u in fold.train} | {speaker_of[u] for u in fold.valid}
            leak = sorted(test_spk & seen)
            if leak:
                raise SerbenchError(
                    f"{where}: speaker(s) {leak} are in the test part and in training or "
                    "validation, but the protocol declares itself speaker-independent"
                )


def fold_speakers(manifest: pl.DataFrame, fold: Fold) -> dict[str, list[str]]:
    """Sorted speakers of each part of ``fold``: ``{"train": [...], "valid": ..., "test": ...}``."""
    speaker_of = dict(
        zip(manifest["utt_id"].to_list(), manifest["speaker"].cast(pl.String).to_list(),
            strict=True)
    )
    return {
        part: sorted({speaker_of[u] for u in ids})
        for part, ids in (("train", fold.train), ("valid", fold.valid), ("test", fold.test))
    }


def is_speaker_independent(manifest: pl.DataFrame, folds: Sequence[Fold]) -> bool:
    """True when no fold shares a speaker between its test part and train or validation.

    The measured property, for the run record: ``kfold`` with ``grouped=speaker`` is
    speaker-independent although the ``kfold`` protocol as a whole is not.
    """
    for fold in folds:
        spk = fold_speakers(manifest, fold)
        if set(spk["test"]) & (set(spk["train"]) | set(spk["valid"])):
            return False
    return True
