"""A fold, and the split hash that identifies a list of folds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Fold:
    """One fold of a protocol: pairwise-disjoint utterance ids.

    Attributes:
        name: e.g. ``"Ses01"`` or ``"fold3"``; unique within a protocol's folds.
        train, valid, test: sorted tuples of ``utt_id``.
        note: anything a reader of the result must know (e.g. a speaker leak).
    """

    name: str
    train: tuple[str, ...]
    valid: tuple[str, ...]
    test: tuple[str, ...]
    note: str = ""

    def check_disjoint(self) -> None:
        """Raise AssertionError if any two of train/valid/test share an id."""
        tr, va, te = set(self.train), set(self.valid), set(self.test)
        assert not tr & va, f"fold {self.name}: train and valid share {sorted(tr & va)[:5]}"
        assert not tr & te, f"fold {self.name}: train and test share {sorted(tr & te)[:5]}"
        assert not va & te, f"fold {self.name}: valid and test share {sorted(va & te)[:5]}"


def split_hash(folds: Sequence[Fold]) -> str:
    """SHA-256 (first 16 hex digits) of the folds' names and ids, order-independent per set."""
    payload = [
        [f.name, sorted(f.train), sorted(f.valid), sorted(f.test)] for f in folds
    ]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]
