"""The skip-connection summaries of eqs. 5-7 against direct computations."""

from __future__ import annotations

import pytest
import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.masking import lengths_to_mask

from serbench_dense_lstm.model import DenseLSTM, FeatureAttention, TimeAttention, build


def _batch(lengths=(5, 3), dim=4, seed=0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    lengths_t = torch.tensor(lengths)
    mask = lengths_to_mask(lengths_t)
    x = torch.randn(len(lengths), int(max(lengths)), dim, generator=g) * mask.unsqueeze(-1)
    return Batch(x=x, lengths=lengths_t, mask=mask)


def test_time_attention_is_eq5() -> None:
    torch.manual_seed(0)
    att = TimeAttention(d_i=3, d_n=2)
    h = torch.randn(1, 4, 3)
    query = torch.randn(1, 2)
    mask = torch.tensor([[True, True, True, False]])
    out, w = att(h, query, mask)
    W = att.W_i.weight  # (d_N, d_i)
    scores = torch.stack([query[0] @ W @ h[0, t] for t in range(3)])  # h_N,last W_i h_i^T
    expected_w = torch.softmax(scores, 0)
    torch.testing.assert_close(w[0, :3], expected_w)
    assert w[0, 3] == 0
    torch.testing.assert_close(out[0], (expected_w.unsqueeze(1) * h[0, :3]).sum(0))


@pytest.mark.parametrize("axis", ["feature", "time"])
def test_feature_attention_is_eq6(axis: str) -> None:
    torch.manual_seed(0)
    att = FeatureAttention(d_i=3, d_a=2, softmax_over=axis)
    h = torch.randn(1, 4, 3)
    mask = torch.tensor([[True, True, True, False]])
    out, w = att(h, mask)
    hv = h[0, :3]  # the valid frames, (T, d_i)
    scores = torch.tanh(hv @ att.W_i.weight.T) @ att.V_i.weight.T  # V_i tanh(W_i h_i)
    expected_w = torch.softmax(scores, dim=1 if axis == "feature" else 0)
    torch.testing.assert_close(w[0, :3], expected_w)
    assert torch.all(w[0, 3] == 0)
    torch.testing.assert_close(out[0], (expected_w * hv).sum(0))  # sum_t W_f o h_i


def test_general_concatenates_last_valid_steps() -> None:
    torch.manual_seed(0)
    model = DenseLSTM(4, 3, cells=[5, 2], mode="general").eval()
    batch = _batch()
    with torch.no_grad():
        pieces, _ = model.summaries(batch)
        # run each layer by hand on the second utterance alone (3 valid frames)
        h = batch.x[1:2, :3]
        lasts = []
        for lstm in model.lstms:
            h, _ = lstm(h)
            lasts.append(h[0, -1])
    assert [p.shape[-1] for p in pieces] == [5, 2]
    torch.testing.assert_close(pieces[0][1], lasts[0])
    torch.testing.assert_close(pieces[1][1], lasts[1])


def test_lstm_mode_reads_only_the_last_layer() -> None:
    model = DenseLSTM(4, 3, cells=[5, 2], mode="lstm", dense_units=7)
    assert model.dense[0].in_features == 2
    skip = DenseLSTM(4, 3, cells=[5, 2], mode="time", dense_units=7)
    assert skip.dense[0].in_features == 7  # [d_1, d_2] concatenated


def test_attention_maps_sum_to_one_over_valid_frames() -> None:
    torch.manual_seed(0)
    batch = _batch()
    for mode in ("time", "feature"):
        model = DenseLSTM(4, 3, cells=[5, 2], mode=mode, feature_softmax="time").eval()
        with torch.no_grad():
            maps = model.attention_maps(batch)
        assert sorted(maps) == ["layer1", "layer2"]
        for w in maps.values():
            torch.testing.assert_close(w.sum(-1), torch.ones(2))
            assert torch.all(w[1, 3:] == 0)
    with pytest.raises(ConfigError, match="no attention"):
        DenseLSTM(4, 3, cells=[5, 2], mode="general").attention_maps(batch)


def test_builder_rejects_bad_settings() -> None:
    spec = InputSpec(feature_dim=4, num_classes=3)
    with pytest.raises(ConfigError, match="mode"):
        build(spec, {"mode": "spatial"})
    with pytest.raises(ConfigError, match="cells"):
        build(spec, {"cells": "a,b"})
    with pytest.raises(ConfigError, match="frames"):
        build(InputSpec(feature_dim=4, num_classes=3, level="functionals"), {})
    assert [lstm.hidden_size for lstm in build(spec, {"cells": "6,3"}).lstms] == [6, 3]


def test_forget_gate_bias_starts_at_forget_bias() -> None:
    model = build(InputSpec(feature_dim=4, num_classes=3), {"cells": [5, 2], "forget_bias": 1.0})
    for lstm in model.lstms:
        h = lstm.hidden_size
        total = lstm.bias_ih_l0 + lstm.bias_hh_l0  # what the gate adds
        assert torch.all(total[h : 2 * h] == 1.0)
        assert not torch.all(total[:h] == 1.0)  # the other gates keep torch's init


def test_default_feature_attention_softmaxes_over_time_as_lin_et_al() -> None:
    """Eq. 6 with the plugin's defaults, by hand: for every feature j of layer i,
    ``w_tj = exp(s_tj) / sum_{valid t'} exp(s_t'j)`` (Lin et al.'s axis), and
    ``d_ij = sum_t w_tj h_tj``. Softmax over features instead gives other weights and a
    ``d_i`` that grows with the length (checked: the same frames repeated twice)."""
    from serbench.lazy import resolve

    from serbench_dense_lstm import plugin

    torch.manual_seed(0)
    hp = {**plugin.DEFAULTS, **plugin.VARIANTS[plugin.MODEL.default_variant], "cells": [3]}
    model = resolve(plugin.MODEL.builder)(InputSpec(feature_dim=4, num_classes=3), hp).eval()
    att = model.attention[0]
    h = torch.randn(1, 4, 3)
    mask = torch.tensor([[True, True, True, False]])
    with torch.no_grad():
        out, w = att(h, mask)
    W, V = att.W_i.weight.tolist(), att.V_i.weight.tolist()  # (d_a, d_i), (d_i, d_a)
    hv = h[0].tolist()
    import math

    def score(t: int, j: int) -> float:
        hidden = [math.tanh(sum(W[a][k] * hv[t][k] for k in range(3))) for a in range(len(W))]
        return sum(V[j][a] * hidden[a] for a in range(len(hidden)))

    for j in range(3):
        exps = [math.exp(score(t, j)) for t in range(3)]  # the 3 valid frames
        for t in range(3):
            assert abs(float(w[0, t, j]) - exps[t] / sum(exps)) < 1e-5
        expected = sum(exps[t] / sum(exps) * hv[t][j] for t in range(3))
        assert abs(float(out[0, j]) - expected) < 1e-5
    assert torch.all(w[0, 3] == 0)
    # a weighted mean: the utterance said twice gives the same summary
    with torch.no_grad():
        twice, _ = att(torch.cat([h[:, :3], h[:, :3]], dim=1), torch.ones(1, 6, dtype=torch.bool))
    torch.testing.assert_close(twice, out, rtol=1e-5, atol=1e-6)
