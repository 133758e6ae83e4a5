"""ssl_head: serbench's model conformance on a layer stack, and the layer-weighted sum."""

from __future__ import annotations

import pytest
import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.testing.conformance import ModelConformance

from serbench_ssl.head import build
from serbench_ssl.layers import layer_layout, layer_names

L, H = 3, 4


class _LayerStack:
    """Frames named as the ssl feature names an (L, T, H) stack: l<n>_d<j>."""

    feature_dim = L * H

    def input_spec(self) -> InputSpec:
        spec = super().input_spec()  # type: ignore[misc]
        return InputSpec(**{**spec.__dict__, "feature_names": tuple(layer_names(range(L), H))})


class TestSSLHead(_LayerStack, ModelConformance):
    model_name = "ssl_head"
    hparams = {"projection": 8}


class TestSSLHeadAttentiveMLP(_LayerStack, ModelConformance):
    model_name = "ssl_head"
    variant = "attentive"
    hparams = {"projection": 8, "classifier": "mlp", "mlp_hidden": 8, "layer_norm": True}


class TestSSLHeadOnPlainFrames(ModelConformance):
    """Any other frame feature is one layer."""

    model_name = "ssl_head"
    hparams = {"projection": 8}
    feature_dim = 5


def test_names_give_the_layout() -> None:
    assert layer_layout(layer_names([0, 1, 2], 4)) == ((0, 1, 2), 4)
    assert layer_layout(layer_names([7], 3)) == ((7,), 3)
    assert layer_layout(["f0", "f1"]) is None
    assert layer_layout(["l0_d0", "l0_d1", "l1_d0"]) is None  # not a whole stack


def test_the_head_mixes_layers_with_softmax_weights() -> None:
    spec = InputSpec(feature_dim=L * H, num_classes=2, feature_names=tuple(layer_names(range(L), H)))
    head = build(spec, {"projection": 6})
    assert head.num_layers == L and head.hidden_size == H
    with torch.no_grad():
        head.layer_logits.copy_(torch.tensor([0.5, -1.0, 2.0]))
    x = torch.randn(2, 5, L * H)
    batch = Batch(x=x, lengths=torch.tensor([5, 3]), mask=torch.tensor([[True] * 5, [True] * 3 + [False] * 2]))
    w = torch.softmax(torch.tensor([0.5, -1.0, 2.0]), 0)
    stack = x.reshape(2, 5, L, H)
    mixed = sum(w[k] * stack[:, :, k] for k in range(L))  # SUPERB: sum_l softmax(w)_l h^l
    expected_frames = head.project(mixed)
    torch.testing.assert_close(head._frames(batch), expected_frames)
    pooled = torch.stack([expected_frames[0].mean(0), expected_frames[1, :3].mean(0)])
    torch.testing.assert_close(head(batch), head.classify(pooled))
    maps = head.attention_maps(batch)
    torch.testing.assert_close(maps["layers"], w.expand(2, -1))


def test_functionals_are_refused() -> None:
    with pytest.raises(ConfigError, match="ssl_head reads frames"):
        build(InputSpec(feature_dim=4, num_classes=2, level="functionals"), {})
