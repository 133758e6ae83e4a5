"""Datasets and collation into padded batches."""

import numpy as np
import pytest
import torch

from serbench.data.dataset import UtteranceDataset, collate
from serbench.errors import ConfigError
from serbench.features.table import FeatureTable


def frames_table():
    rng = np.random.default_rng(0)
    arrays = {f"u{i}": rng.normal(size=(t, 3)).astype(np.float32) for i, t in enumerate([4, 2, 6])}
    return FeatureTable.from_arrays(arrays, ["a", "b", "c"], "frames")


def test_frames_are_zero_padded_with_lengths_and_mask():
    table = frames_table()
    ds = UtteranceDataset(["u0", "u1", "u2"], table, "frames",
                          {"emotion": np.array([0, 1, 2]), "gender": np.array([1, -100, 0])})
    assert ds.lengths() == [4, 2, 6]
    batch = collate([ds[i] for i in range(3)], "frames")
    assert batch.x.shape == (3, 6, 3)
    assert batch.lengths.tolist() == [4, 2, 6]
    assert batch.mask.sum(1).tolist() == [4, 2, 6]
    assert float(batch.x[1, 2:].abs().sum()) == 0.0
    np.testing.assert_allclose(batch.x[0, :4].numpy(), table["u0"])
    assert batch.targets["gender"].tolist() == [1, -100, 0]
    assert batch.utt_ids == ["u0", "u1", "u2"]


def test_functionals_batch():
    table = FeatureTable.from_arrays({"a": np.ones(5), "b": np.zeros(5)}, list("vwxyz"), "functionals")
    ds = UtteranceDataset(["a", "b"], table, "functionals", {"emotion": np.array([1, 0])})
    batch = next(ds.batches(8))
    assert batch.x.shape == (2, 5)
    assert batch.mask.shape == (2, 1) and bool(batch.mask.all())
    assert batch.lengths.tolist() == [1, 1]


def test_tokens_are_padded_with_zero():
    ds = UtteranceDataset(["u0", "u1"], frames_table(), "frames", {"emotion": np.array([0, 1])},
                          tokens={"u0": [5, 6, 7], "u1": []})
    batch = collate([ds[0], ds[1]], "frames")
    assert batch.extras["tokens"].tolist() == [[5, 6, 7], [0, 0, 0]]
    assert batch.extras["token_lengths"].tolist() == [3, 0]


def test_missing_features_and_wrong_level_are_errors():
    with pytest.raises(ConfigError, match="no features"):
        UtteranceDataset(["u0", "zzz"], frames_table(), "frames", {"emotion": np.array([0, 1])})
    ds = UtteranceDataset(["u0"], frames_table(), "functionals", {"emotion": np.array([0])})
    with pytest.raises(ConfigError, match="needs"):
        ds[0]


def test_batches_cover_the_split_in_buckets():
    ds = UtteranceDataset(["u0", "u1", "u2"], frames_table(), "frames", {"emotion": np.array([0, 1, 2])})
    batches = list(ds.batches(2, shuffle=True, seed=1))
    assert sorted(u for b in batches for u in b.utt_ids) == ["u0", "u1", "u2"]
    assert all(isinstance(b.x, torch.Tensor) for b in batches)
