"""Length-bucketed batching: fewer padded frames, still shuffled, deterministic per seed.

Utterances are shuffled, cut into buckets of ``batch_size * bucket_factor`` utterances,
each bucket is sorted by length and cut into batches, and the batches are shuffled
again. Batches therefore hold utterances of similar length (little padding) while the
epoch order still varies (the "sort-ish" batching of torchtext's BucketIterator and
fairseq). The same seed and epoch give the same batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def make_batches(
    lengths: Sequence[int],
    batch_size: int,
    *,
    shuffle: bool = True,
    bucket: bool = True,
    seed: int = 0,
    epoch: int = 0,
    bucket_factor: int = 50,
) -> list[list[int]]:
    """Split row indices ``0..N-1`` into batches.

    Args:
        lengths: N, frames per utterance (1 for functionals).
        batch_size: utterances per batch (the last batch of a bucket may be smaller).
        shuffle: vary the order with ``seed`` and ``epoch``; without it, batches follow
            the given order (or ascending length when ``bucket``), as for evaluation.
        bucket: group utterances of similar length.
        seed, epoch: the random stream is ``default_rng([seed, epoch])``.
        bucket_factor: batches per bucket; larger cuts more padding, shuffles less.
    Returns:
        Batches of row indices; every index appears exactly once.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = len(lengths)
    lens = np.asarray(lengths, dtype=np.int64)
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n) if shuffle else np.arange(n)
    if not bucket:
        return [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
    if not shuffle:  # evaluation: one global sort gives the least padding
        order = np.argsort(lens, kind="stable")
        return [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
    size = max(batch_size * bucket_factor, batch_size)
    batches: list[list[int]] = []
    for start in range(0, n, size):
        chunk = order[start : start + size]
        chunk = chunk[np.argsort(lens[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size].tolist() for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def padded_share(batches: Sequence[Sequence[int]], lengths: Sequence[int]) -> float:
    """Fraction of frames in padded batches that are padding (0 = none, -> 1 = all).

    Each batch is padded to its longest utterance.
    """
    lens = np.asarray(lengths, dtype=np.int64)
    total = valid = 0
    for batch in batches:
        if len(batch) == 0:
            continue
        b = lens[list(batch)]
        total += int(b.max()) * len(b)
        valid += int(b.sum())
    return 0.0 if total == 0 else 1.0 - valid / total
