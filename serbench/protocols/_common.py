"""Shared pieces of the built-in protocols: option parsing, validation carving, fold building.

Every protocol works on the manifest sorted by ``utt_id`` and draws randomness only from
``numpy.random.default_rng(seed)``, so folds depend on the manifest's content and the seed,
never on row order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from serbench.errors import ConfigError
from serbench.protocols.base import Fold

#: Options every built-in protocol accepts.
COMMON_OPTIONS: dict[str, str] = {
    "valid_fraction": "share of the training part carved out for validation (default 0.1)",
}

#: Fewest training speakers that allow a speaker-disjoint validation split.
MIN_SPEAKERS_FOR_SPEAKER_VALID = 3


def check_options(protocol: str, options: Mapping[str, Any], known: Mapping[str, str]) -> None:
    """Raise ConfigError for option keys the protocol does not know."""
    allowed = {**COMMON_OPTIONS, **known}
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        listing = "; ".join(f"{k}: {v}" for k, v in sorted(allowed.items()))
        raise ConfigError(
            f"protocol {protocol!r} got unknown option(s) {unknown}. Known options: {listing}."
        )


def int_option(protocol: str, options: Mapping[str, Any], key: str, default: int, *,
               minimum: int) -> int:
    """An integer option (CLI options arrive as strings)."""
    raw = options.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"protocol {protocol!r}: option {key}={raw!r} must be an integer"
        ) from None
    if value < minimum:
        raise ConfigError(f"protocol {protocol!r}: option {key}={value} must be >= {minimum}")
    return value


def valid_fraction(protocol: str, options: Mapping[str, Any]) -> float:
    """The ``valid_fraction`` option, checked to lie in (0, 1)."""
    raw = options.get("valid_fraction", 0.1)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"protocol {protocol!r}: option valid_fraction={raw!r} must be a number"
        ) from None
    if not 0.0 < value < 1.0:
        raise ConfigError(
            f"protocol {protocol!r}: option valid_fraction={value} must lie strictly "
            "between 0 and 1"
        )
    return value


def list_option(raw: Any) -> list[str]:
    """A list option given as a list or as a comma-separated string."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list | tuple | set):
        return [str(part) for part in raw]
    return [str(raw)]


def require_column(protocol: str, manifest: pl.DataFrame, column: str, why: str) -> None:
    """Raise ConfigError if the manifest lacks ``column`` or has empty values in it."""
    if column not in manifest.columns:
        raise ConfigError(
            f"protocol {protocol!r} needs a {column!r} column in the manifest ({why}); "
            f"this manifest has {manifest.columns}. Add the column or choose another "
            "protocol (e.g. loso-speaker or kfold)."
        )
    empty = manifest.filter(
        pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.strip_chars() == "")
    )
    if empty.height:
        ids = empty["utt_id"].head(5).to_list()
        raise ConfigError(
            f"protocol {protocol!r}: {empty.height} utterance(s) have no {column!r} value "
            f"(e.g. {ids}); fill the column or choose another protocol"
        )


def sorted_manifest(manifest: pl.DataFrame) -> pl.DataFrame:
    """The manifest sorted by ``utt_id``: folds must not depend on row order."""
    return manifest.sort("utt_id")


def stratified_sample(
    ids: Sequence[str], labels: Sequence[str], fraction: float, rng: np.random.Generator
) -> list[str]:
    """About ``fraction`` of ``ids``, drawn per label so each label keeps its share.

    Each label with at least two utterances contributes ``max(1, round(fraction * n))``
    of them (never all); a label with one utterance contributes none. Hand-written rather
    than ``train_test_split(stratify=...)``, which refuses classes of one member and
    splits smaller than the number of classes, both common in the training part of a
    small corpus's fold.
    """
    by_label: dict[str, list[str]] = {}
    for uid, label in zip(ids, labels, strict=True):
        by_label.setdefault(label, []).append(uid)
    picked: list[str] = []
    for label in sorted(by_label):
        members = sorted(by_label[label])
        if len(members) < 2:
            continue
        n = min(len(members) - 1, max(1, round(fraction * len(members))))
        order = rng.permutation(len(members))[:n]
        picked.extend(members[i] for i in order)
    return sorted(picked)


def carve_validation(
    manifest: pl.DataFrame,
    train_ids: Iterable[str],
    *,
    seed: int,
    fraction: float = 0.1,
    by_speaker: bool = True,
) -> tuple[list[str], list[str]]:
    """Split a fold's training ids into (train, valid), deterministically given ``seed``.

    By speaker when ``by_speaker`` and the training part has at least
    :data:`MIN_SPEAKERS_FOR_SPEAKER_VALID` speakers: ``max(1, round(fraction * S))``
    whole speakers (at most ``S - 2``, so training keeps two), drawn at random, become
    the validation speakers. Otherwise a label-stratified ``fraction`` of the utterances
    (:func:`stratified_sample`).

    Returns:
        (train, valid): sorted, disjoint lists whose union is ``train_ids``.
    """
    train_set = set(train_ids)
    part = sorted_manifest(manifest.filter(pl.col("utt_id").is_in(list(train_set))))
    missing = train_set - set(part["utt_id"].to_list())
    if missing:
        raise ConfigError(
            f"carve_validation: {len(missing)} training id(s) are not in the manifest "
            f"(e.g. {sorted(missing)[:5]})"
        )
    rng = np.random.default_rng(seed)
    speakers = sorted(set(part["speaker"].cast(pl.String).to_list()))
    if by_speaker and len(speakers) >= MIN_SPEAKERS_FOR_SPEAKER_VALID:
        n_valid = min(len(speakers) - 2, max(1, round(fraction * len(speakers))))
        chosen = {speakers[i] for i in rng.permutation(len(speakers))[:n_valid]}
        is_valid = part["speaker"].cast(pl.String).is_in(list(chosen))
        valid = sorted(part.filter(is_valid)["utt_id"].to_list())
    else:
        valid = stratified_sample(
            part["utt_id"].to_list(), part["label"].cast(pl.String).to_list(), fraction, rng
        )
    valid_set = set(valid)
    train = sorted(uid for uid in train_set if uid not in valid_set)
    return train, valid


def make_fold(
    name: str,
    manifest: pl.DataFrame,
    train_ids: Iterable[str],
    test_ids: Iterable[str],
    *,
    seed: int,
    fraction: float,
    by_speaker: bool = True,
    note: str = "",
) -> Fold:
    """A fold whose validation part is carved from ``train_ids`` (see carve_validation)."""
    train, valid = carve_validation(
        manifest, train_ids, seed=seed, fraction=fraction, by_speaker=by_speaker
    )
    return Fold(name=name, train=tuple(train), valid=tuple(valid),
                test=tuple(sorted(test_ids)), note=note)


def fold_seed(seed: int, index: int) -> int:
    """A per-fold seed, so one fold's validation draw does not depend on another's."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


#: A fold testing on fewer utterances than this gets a warning: its score is mostly noise,
#: yet it weighs as much as any other fold in the mean over folds.
MIN_TEST_UTTERANCES = 10


def small_fold_warnings(manifest: pl.DataFrame, folds: Sequence[Fold],
                        classes: Sequence[str]) -> list[str]:
    """Warnings for folds whose test part is too small to score reliably.

    A fold is warned about when its test part has fewer than :data:`MIN_TEST_UTTERANCES`
    utterances (e.g. a speaker with one utterance that became its own fold), or lacks a
    class (its UA then averages over fewer classes than the other folds'). Each warning
    names the fold, its test speakers with their utterance counts, and the effect.
    """
    speaker_of = dict(zip(manifest["utt_id"].to_list(),
                          manifest["speaker"].cast(pl.String).to_list(), strict=True))
    label_of = dict(zip(manifest["utt_id"].to_list(),
                        manifest["label"].cast(pl.String).to_list(), strict=True))
    warnings = []
    for fold in folds:
        per_speaker: dict[str, int] = {}
        for uid in fold.test:
            per_speaker[speaker_of[uid]] = per_speaker.get(speaker_of[uid], 0) + 1
        speakers = ", ".join(f"{s} ({n})" for s, n in sorted(per_speaker.items()))
        if len(fold.test) < MIN_TEST_UTTERANCES:
            warnings.append(
                f"fold {fold.name!r} tests on only {len(fold.test)} utterance(s) (speakers: "
                f"{speakers}); its scores are mostly noise but count fully in the mean over "
                f"folds. Prefer the pooled scores, or remove or merge such speakers.")
        missing = sorted(set(classes) - {label_of[u] for u in fold.test})
        if missing:
            warnings.append(
                f"fold {fold.name!r} has no test utterance of class(es) {missing}; its UA "
                "averages over the other classes only.")
    return warnings
