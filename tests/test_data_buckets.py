"""Length-bucketed batching: fewer padded frames than random batches, deterministic."""

import numpy as np
import pytest

from serbench.data.buckets import make_batches, padded_share


@pytest.fixture
def lengths():
    return np.random.default_rng(1).integers(10, 500, size=400).tolist()


def test_every_index_once(lengths):
    for bucket in (True, False):
        for shuffle in (True, False):
            batches = make_batches(lengths, 16, bucket=bucket, shuffle=shuffle, seed=3)
            flat = sorted(i for b in batches for i in b)
            assert flat == list(range(len(lengths)))
            assert all(1 <= len(b) <= 16 for b in batches)


def test_buckets_cut_padding_versus_random_batches(lengths):
    random = padded_share(make_batches(lengths, 16, bucket=False, seed=0), lengths)
    bucketed = padded_share(make_batches(lengths, 16, bucket=True, seed=0, bucket_factor=10), lengths)
    assert random > 0.3
    assert bucketed < random / 3


def test_deterministic_under_seed_and_varies_by_epoch(lengths):
    a = make_batches(lengths, 16, seed=5, epoch=2)
    assert a == make_batches(lengths, 16, seed=5, epoch=2)
    assert a != make_batches(lengths, 16, seed=5, epoch=3)
    assert a != make_batches(lengths, 16, seed=6, epoch=2)


def test_evaluation_order_is_sorted_and_fixed(lengths):
    batches = make_batches(lengths, 32, shuffle=False, bucket=True)
    flat = [i for b in batches for i in b]
    assert [lengths[i] for i in flat] == sorted(lengths)
    assert make_batches(lengths, 32, shuffle=False, bucket=False)[0] == list(range(32))


def test_padded_share_values():
    assert padded_share([[0, 1]], [4, 4]) == 0.0
    assert padded_share([[0, 1]], [1, 3]) == pytest.approx(1 / 3)
    assert padded_share([], [1]) == 0.0


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        make_batches([1, 2], 0)
