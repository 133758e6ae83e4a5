"""Dialogue context lookup and its collation."""

import numpy as np
import polars as pl
import pytest

from serbench.data.context import ContextRef, context_lookup
from serbench.data.dataset import UtteranceDataset, collate
from serbench.errors import ConfigError
from serbench.features.table import FeatureTable


def dialog_manifest():
    # d1: A B A B A ; d2: C C D ; e: no dialog
    rows = [
        ("d1_0", "A", "d1", 0), ("d1_1", "B", "d1", 1), ("d1_2", "A", "d1", 2),
        ("d1_3", "B", "d1", 3), ("d1_4", "A", "d1", 4),
        ("d2_0", "C", "d2", 0), ("d2_2", "D", "d2", 2), ("d2_1", "C", "d2", 1),
        ("e", "E", None, None),
    ]
    return pl.DataFrame(
        {
            "utt_id": [r[0] for r in rows],
            "speaker": [r[1] for r in rows],
            "dialog": [r[2] for r in rows],
            "turn": [r[3] for r in rows],
            "label": ["neu"] * len(rows),
        }
    )


def test_previous_own_and_interlocutor_turns():
    ctx = context_lookup(dialog_manifest())
    assert ctx["d1_0"] == ContextRef(None, None)
    assert ctx["d1_1"] == ContextRef(None, "d1_0")
    assert ctx["d1_2"] == ContextRef("d1_0", "d1_1")
    assert ctx["d1_4"] == ContextRef("d1_2", "d1_3")
    # turns are ordered by the turn column, not by row order
    assert ctx["d2_1"] == ContextRef("d2_0", None)
    assert ctx["d2_2"] == ContextRef(None, "d2_1")
    assert ctx["e"] == ContextRef(None, None)


def test_window_limits_how_far_back():
    n = 12
    manifest = pl.DataFrame(
        {
            "utt_id": [f"u{i}" for i in range(n)],
            "speaker": ["A"] + ["B"] * (n - 1),
            "dialog": ["d"] * n,
            "turn": list(range(n)),
        }
    )
    ctx = context_lookup(manifest, window=8)
    assert ctx["u8"].prev_other == "u0"  # exactly 8 turns back
    assert ctx["u9"].prev_other is None  # 9 turns back: outside the window
    assert ctx["u9"].prev_self == "u8"


def test_missing_columns_is_a_clear_error_unless_allowed():
    manifest = pl.DataFrame({"utt_id": ["a", "b"], "speaker": ["s", "t"], "label": ["x", "y"]})
    with pytest.raises(ConfigError, match="allow_empty_context=True"):
        context_lookup(manifest, model="model 'iaan'")
    ctx = context_lookup(manifest, allow_empty_context=True)
    assert ctx == {"a": ContextRef(None, None), "b": ContextRef(None, None)}


def test_unknown_ids_are_reported():
    with pytest.raises(ConfigError, match="not in the manifest"):
        context_lookup(dialog_manifest(), ["nope"])


def test_context_features_are_collated_with_presence_flags():
    manifest = dialog_manifest()
    rng = np.random.default_rng(0)
    lens = {u: i + 1 for i, u in enumerate(manifest["utt_id"])}
    # d1_3 has features although it is outside the "fold": context reads any utterance.
    table = FeatureTable.from_arrays(
        {u: rng.normal(size=(t, 2)).astype(np.float32) for u, t in lens.items() if u != "d1_1"},
        ["a", "b"],
        "frames",
    )
    ids = ["d1_2", "d1_4"]
    ds = UtteranceDataset(
        ids, table, "frames", {"emotion": np.array([0, 1])}, context=context_lookup(manifest, ids)
    )
    batch = collate([ds[0], ds[1]], "frames")
    # d1_2: prev_self d1_0 present, prev_other d1_1 has no features -> absent
    assert batch.extras["prev_self_present"].tolist() == [True, True]
    assert batch.extras["prev_other_present"].tolist() == [False, True]
    assert batch.extras["prev_other_lengths"].tolist() == [1, lens["d1_3"]]
    assert float(batch.extras["prev_other_x"][0].abs().sum()) == 0.0
    np.testing.assert_allclose(batch.extras["prev_self_x"][1, : lens["d1_2"]].numpy(), table["d1_2"])
