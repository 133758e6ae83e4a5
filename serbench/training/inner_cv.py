"""Cross-validated epoch choice inside a fold's development speakers (``inner_folds``).

With one validation speaker (~216 utterances on nEMO) the chosen epoch hinges on one
noisy curve (docs/training.md). ``inner_folds=K`` instead splits the fold's development
utterances (its training and validation parts; never its test part) into K
speaker-disjoint groups, trains one model per group with that group as validation (the
usual early stopping and ``select_window``), and takes the median of the K selected
epochs. The fold's tested model is then trained on every development utterance for that
many epochs (as ``refit``). Every development speaker validates once, so the validation
UA behind the choice rests on K times more utterances, at K + 1 trainings per fold.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from serbench.errors import ConfigError


@dataclass
class InnerSelection:
    """What the inner cross-validation chose.

    Attributes:
        epochs: the epoch count the tested model trains for (median of ``best_epochs``,
            rounded half up, at least 1).
        groups: the K groups' speakers, in the order they validated.
        best_epochs: each inner model's selected epoch.
        valid_ua: each inner model's UA on its held-out group.
        oof_scores: utt_id -> (C,) emotion probabilities from the inner model that held
            that utterance out (out-of-fold scores for every development utterance).
        train_seconds: the K trainings' total.
    """

    epochs: int
    groups: list[list[str]]
    best_epochs: list[int]
    valid_ua: list[float]
    oof_scores: dict[str, np.ndarray] = field(default_factory=dict)
    train_seconds: float = 0.0

    def summary(self) -> dict:
        """JSON-ready form for the run record's fold entry (``selection``)."""
        return {"rule": "inner_folds", "k": len(self.groups), "epochs": self.epochs,
                "groups": self.groups, "best_epochs": self.best_epochs,
                "valid_ua": self.valid_ua,
                "valid_ua_mean": float(np.mean(self.valid_ua)) if self.valid_ua else None}


def speaker_groups(ids: Sequence[str], speaker_of: Mapping[str, str],
                   k: int) -> list[tuple[str, ...]]:
    """``ids`` split into ``min(k, speakers)`` speaker-disjoint groups of similar size.

    Speakers are dealt, largest first (ties by name), to the group with the fewest
    utterances so far (ties: the lowest index), so the split is deterministic.

    Raises:
        ConfigError: fewer than two development speakers, or ``k`` < 2.
    """
    if k < 2:
        raise ConfigError(f"inner_folds={k} (--set inner_folds=K): K is the number of "
                          "speaker groups validated in turn; use 2 or more, or 0 to turn it off")
    by_speaker: dict[str, list[str]] = {}
    for utt in ids:
        by_speaker.setdefault(str(speaker_of[utt]), []).append(utt)
    if len(by_speaker) < 2:
        raise ConfigError(
            f"inner_folds={k} needs at least 2 development speakers, this fold has "
            f"{len(by_speaker)}; use a protocol that leaves several speakers for "
            "training, or drop inner_folds")
    n = min(k, len(by_speaker))
    groups: list[list[str]] = [[] for _ in range(n)]
    order = sorted(by_speaker, key=lambda s: (-len(by_speaker[s]), s))
    for speaker in order:
        smallest = min(range(n), key=lambda g: (len(groups[g]), g))
        groups[smallest].extend(by_speaker[speaker])
    return [tuple(sorted(g)) for g in groups]


def median_epoch(best_epochs: Sequence[int]) -> int:
    """The median of the selected epochs, rounded half up, at least 1 (as ``serbench refit``)."""
    return max(1, math.floor(statistics.median(best_epochs) + 0.5))


def cross_validate_epochs(
    dev_ids: Sequence[str],
    speaker_of: Mapping[str, str],
    k: int,
    train_one: Callable[[Sequence[str], Sequence[str]], tuple[int, float, np.ndarray, float]],
) -> InnerSelection:
    """Run the K inner trainings and choose the epoch count.

    Args:
        dev_ids: the fold's development utterances (train + valid).
        speaker_of: utt_id -> speaker.
        k: the number of groups (``inner_folds``).
        train_one: ``train_one(train_ids, valid_ids)`` trains a fresh model and returns
            (selected epoch, validation UA, (N_valid, C) validation probabilities in
            ``valid_ids`` order, training seconds).
    """
    groups = speaker_groups(dev_ids, speaker_of, k)
    held = set()
    best, uas, seconds = [], [], 0.0
    oof: dict[str, np.ndarray] = {}
    for group in groups:
        held_out = set(group)
        train_ids = [u for u in dev_ids if u not in held_out]
        epoch, ua, probs, took = train_one(train_ids, list(group))
        best.append(int(epoch))
        uas.append(float(ua))
        seconds += took
        oof.update(zip(group, np.asarray(probs), strict=True))
        held |= held_out
    assert held == set(dev_ids), "every development utterance validates exactly once"
    return InnerSelection(
        epochs=median_epoch(best),
        groups=[sorted({str(speaker_of[u]) for u in g}) for g in groups],
        best_epochs=best, valid_ua=uas, oof_scores=oof, train_seconds=seconds,
    )
