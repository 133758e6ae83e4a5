"""Normalisation modes: none, utterance, speaker, global (training fold only), NaN-safe."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from serbench.errors import ConfigError
from serbench.features.normalise import normalise
from serbench.features.table import FeatureTable


def _table(level="frames"):
    rng = np.random.default_rng(0)
    arrays = {}
    for i in range(6):
        scale, shift = 1 + i, 10 * (i % 2)
        shape = (5 + i, 3) if level == "frames" else (3,)
        arrays[f"u{i}"] = (rng.standard_normal(shape) * scale + shift).astype(np.float32)
    manifest = pl.DataFrame({"utt_id": list(arrays), "speaker": [f"s{i % 2}" for i in range(6)]})
    return FeatureTable.from_arrays(arrays, ["a", "b", "c"], level), manifest


def test_none_returns_the_stored_values():
    table, manifest = _table()
    out = normalise(table, manifest, "none", [])
    np.testing.assert_array_equal(out["u3"], table["u3"])
    assert out.info()["normalisation"] == "none"


def test_utterance_mode_standardises_each_utterance():
    table, manifest = _table()
    out = normalise(table, manifest, "utterance", [])
    for utt in table:
        np.testing.assert_allclose(out[utt].mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(out[utt].std(axis=0), 1, atol=1e-4)
    functionals, manifest = _table("functionals")
    with pytest.raises(ConfigError, match="frame-level"):
        normalise(functionals, manifest, "utterance", [])


def test_global_mode_is_fitted_on_training_ids_only():
    table, manifest = _table()
    train = ["u0", "u1", "u2"]
    out = normalise(table, manifest, "global", train)
    pooled = np.concatenate([out[u] for u in train])
    np.testing.assert_allclose(pooled.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(pooled.std(axis=0), 1, atol=1e-4)
    # changing a test utterance changes nothing about the statistics
    arrays = {u: table[u].copy() for u in table}
    arrays["u5"] = arrays["u5"] * 1000 + 7
    poisoned = FeatureTable.from_arrays(arrays, table.names, "frames")
    np.testing.assert_allclose(normalise(poisoned, manifest, "global", train)["u0"], out["u0"], rtol=1e-6)
    with pytest.raises(ConfigError, match="training fold"):
        normalise(table, manifest, "global", ["nobody"])


def test_speaker_mode_uses_each_speakers_own_statistics():
    for level in ("frames", "functionals"):
        table, manifest = _table(level)
        out = normalise(table, manifest, "speaker", [])
        for speaker in ("s0", "s1"):
            utts = [u for u, s in zip(manifest["utt_id"], manifest["speaker"], strict=True) if s == speaker]
            pooled = np.concatenate([np.atleast_2d(out[u]) for u in utts])
            np.testing.assert_allclose(pooled.mean(axis=0), 0, atol=1e-5)
            np.testing.assert_allclose(pooled.std(axis=0), 1, atol=1e-4)


def test_nan_never_poisons_statistics_and_constant_dims_become_zero():
    arrays = {
        "a": np.array([[1.0, 5.0], [np.nan, 5.0], [3.0, 5.0]], np.float32),
        "b": np.array([[np.inf, 5.0], [2.0, 5.0]], np.float32),
    }
    table = FeatureTable.from_arrays(arrays, ["x", "const"], "frames")
    manifest = pl.DataFrame({"utt_id": ["a", "b"], "speaker": ["s", "s"]})
    out = normalise(table, manifest, "global", ["a", "b"])
    x = out["a"]
    assert np.isfinite(x[[0, 2]]).all()
    np.testing.assert_allclose(x[:, 1], 0)  # constant dimension: 0, not NaN
    np.testing.assert_allclose(x[[0, 2], 0], [-1.2247449, 1.2247449], rtol=1e-5)  # mean 2 of {1,3,2}


def test_unknown_mode_is_refused():
    table, manifest = _table()
    with pytest.raises(ConfigError, match="none, utterance, speaker, global"):
        normalise(table, manifest, "minmax", [])
