"""Shared toy data for the training tests."""

import polars as pl

from serbench.protocols.base import Fold
from serbench.testing.tables import synthetic_frames

CLASSES = ["a", "b", "c"]


def toy_problem(n: int = 60, *, level: str = "frames", seed: int = 0, separation: float = 1.5):
    """(manifest, fold, table): 6 speakers, 3 balanced classes, train 2/3, valid and test 1/6."""
    ids = [f"u{i:03d}" for i in range(n)]
    labels = [i % 3 for i in range(n)]
    manifest = pl.DataFrame(
        {
            "utt_id": ids,
            "path": ["x.wav"] * n,
            "speaker": [f"s{i % 6}" for i in range(n)],
            "gender": [["F", "M"][i % 2] for i in range(n)],
            "label": [CLASSES[k] for k in labels],
        }
    )
    a, b = 2 * n // 3, 5 * n // 6
    fold = Fold("f0", tuple(ids[:a]), tuple(ids[a:b]), tuple(ids[b:]))
    table = synthetic_frames(ids, labels, dim=4, level=level, seed=seed, separation=separation)
    return manifest, fold, table
