"""IAAN: interaction-aware attention masking, explicit zero context, every GRU's cell."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from serbench.data.batch import Batch, InputSpec
from serbench.data.dataset import collate
from serbench.errors import ConfigError

from serbench_ar_gru.arelu import AReLU
from serbench_ar_gru.attention import AdditiveSelfAttention, InteractionAwareAttention
from serbench_ar_gru.gru import GRU
from serbench_ar_gru.iaan import IAAN, build
from serbench_ar_gru.plugin import DEFAULTS, VARIANTS

torch.set_num_threads(1)
SMALL = {**DEFAULTS, "hidden_size": 6, "attention_size": 4, "fc_size": 8}
SPEC = InputSpec(feature_dim=3, num_classes=4)


def _batch(lengths=(5, 2, 4), prev_self=(True, False, True), prev_other=(False, True, True),
           seed=0) -> Batch:
    rng = np.random.default_rng(seed)
    items = []
    for i, t in enumerate(lengths):
        frames = lambda n: rng.normal(size=(n, 3)).astype(np.float32)  # noqa: E731
        items.append({
            "utt_id": f"u{i}", "x": frames(t), "targets": {"emotion": i % 4},
            "prev_self": frames(3 + i) if prev_self[i] else None,
            "prev_other": frames(2 + 2 * i) if prev_other[i] else None,
        })
    return collate(items, "frames")


def test_interaction_aware_attention_masks_padding() -> None:
    torch.manual_seed(0)
    att = InteractionAwareAttention(current_dim=6, context_dim=4, attention_size=5)
    h = torch.randn(2, 7, 6)
    h_p, h_r = torch.randn(2, 4), torch.randn(2, 4)
    mask = torch.tensor([[True] * 7, [True] * 3 + [False] * 4])
    attended, alpha = att(h, h_p, h_r, mask)
    assert alpha[1, 3:].abs().max() == 0
    torch.testing.assert_close(alpha.sum(-1), torch.ones(2))
    # the equation: alpha_t = softmax(u^T tanh(W_c h_t + W_p h_p + W_r h_r + b)) over valid t
    e = torch.tanh(h[1, :3] @ att.W_c + h_p[1] @ att.W_p + h_r[1] @ att.W_r + att.b) @ att.u
    torch.testing.assert_close(alpha[1, :3], torch.softmax(e, 0))
    torch.testing.assert_close(attended[1], (alpha[1, :3, None] * h[1, :3]).sum(0))
    # huge values in padded frames change nothing
    h2 = h.clone()
    h2[1, 3:] = 1e4
    attended2, _ = att(h2, h_p, h_r, mask)
    torch.testing.assert_close(attended2, attended)


def test_attention_depends_on_both_previous_turns() -> None:
    torch.manual_seed(1)
    att = InteractionAwareAttention(4, 4, 3)
    h, mask = torch.randn(1, 5, 4), torch.ones(1, 5, dtype=torch.bool)
    base = att(h, torch.zeros(1, 4), torch.zeros(1, 4), mask)[1]
    assert not torch.allclose(att(h, torch.ones(1, 4), torch.zeros(1, 4), mask)[1], base)
    assert not torch.allclose(att(h, torch.zeros(1, 4), torch.ones(1, 4), mask)[1], base)


def test_self_attention_masks_padding() -> None:
    torch.manual_seed(2)
    att = AdditiveSelfAttention(4, 3)
    h = torch.randn(2, 5, 4)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    pooled, w = att(h, mask)
    assert w[1, 2:].abs().max() == 0
    torch.testing.assert_close(w.sum(-1), torch.ones(2))
    torch.testing.assert_close(pooled[1], (w[1, :2, None] * h[1, :2]).sum(0))


def test_absent_turn_is_exact_zero_context() -> None:
    torch.manual_seed(3)
    model = build(SPEC, SMALL).eval()
    batch = _batch()
    enc = model._encode(batch)
    assert enc["h_p"][1].abs().max() == 0  # row 1 has no previous own turn
    assert enc["h_r"][0].abs().max() == 0  # row 0 has no previous interlocutor turn
    assert enc["h_p"][0].abs().max() > 0 and enc["h_r"][1].abs().max() > 0
    # whatever frames stand in for an absent turn, the output is the same
    with torch.no_grad():
        before = model(batch)
        batch.extras["prev_self_x"][1] = torch.randn_like(batch.extras["prev_self_x"][1]) * 50
        batch.extras["prev_self_lengths"][1] = batch.extras["prev_self_x"].shape[1]
        after = model(batch)
    torch.testing.assert_close(after, before)


def test_present_context_changes_the_prediction() -> None:
    torch.manual_seed(4)
    model = build(SPEC, SMALL).eval()
    with torch.no_grad():
        with_ctx = model(_batch(prev_self=(True, True, True), prev_other=(True, True, True)))
        without = model(_batch(prev_self=(False,) * 3, prev_other=(False,) * 3))
    assert not torch.allclose(with_ctx, without)


def test_attention_maps_are_zero_on_padding() -> None:
    torch.manual_seed(5)
    model = build(SPEC, SMALL).eval()
    batch = _batch()
    with torch.no_grad():
        maps = model.attention_maps(batch)
    alpha = maps["frames"]
    assert alpha.shape == batch.mask.shape
    assert alpha[~batch.mask].abs().max() == 0
    torch.testing.assert_close(alpha.sum(-1), torch.ones(3))
    # the context encoders' attention over each previous turn's frames (serbench explain)
    for turn, present in (("prev_self", (True, False, True)), ("prev_other", (False, True, True))):
        weights = maps[f"context/{turn}"]
        lengths = batch.extras[f"{turn}_lengths"]
        assert weights.shape == batch.extras[f"{turn}_x"].shape[:2]
        valid = torch.arange(weights.shape[1])[None] < lengths[:, None]
        assert weights[~valid].abs().max() == 0
        torch.testing.assert_close(weights.sum(-1), torch.tensor(present, dtype=torch.float))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_gru_uses_the_variants_cell(variant: str) -> None:
    hp = {**SMALL, **VARIANTS[variant]}
    model = build(SPEC, hp)
    grus = [m for m in model.modules() if isinstance(m, GRU)]
    assert len(grus) == 3  # current utterance, previous own turn, previous interlocutor turn
    assert grus[0].bidirectional and not grus[1].bidirectional and not grus[2].bidirectional
    for gru in grus:
        assert gru.activation_name == hp["activation"]
        for act in gru.activations.values():
            if hp["activation"] == "arelu":
                assert isinstance(act, AReLU)
                assert act.alpha.item() == pytest.approx(hp["alpha"])
                assert act.beta.item() == pytest.approx(hp["beta"])
                assert act.alpha_floor == hp["alpha_floor"]
            else:
                assert type(act).__name__.lower() == {"tanh": "tanh", "relu": "relu"}[hp["activation"]]


def test_unidirectional_option_and_layer_sizes() -> None:
    model = build(SPEC, {**SMALL, "bidirectional": False})
    assert not model.current.bidirectional
    assert model.fc.in_features == 3 * 6 and model.fc.out_features == 8
    bi = build(SPEC, SMALL)
    assert bi.fc.in_features == 4 * 6
    assert isinstance(bi, IAAN)


def test_missing_context_extras_say_what_to_do() -> None:
    model = build(SPEC, SMALL)
    batch = _batch()
    batch.extras.clear()
    with pytest.raises(ConfigError, match="prev_self_x.*inputs=\\('context',\\)"):
        model(batch)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ConfigError, match="frame-level"):
        build(InputSpec(feature_dim=3, num_classes=4, level="functionals"), SMALL)
    with pytest.raises(ConfigError, match="dropout"):
        build(SPEC, {**SMALL, "dropout": 1.0})
    with pytest.raises(ConfigError, match="unknown GRU candidate activation 'tanhh'"):
        build(SPEC, {**SMALL, "activation": "tanhh"})
