"""DRN (Li et al., ICASSP 2019) against a hand-written reference on small tensors (issue 16).

Every variant of Table 2 is built from the plugin's own hyperparameters (only the widths
made tiny), and compared with a reference written here from the paper's description and
the variant's settings, using the module's weights:

* the receptive field of the front end (eqs. 1-2: strided and k-dilated temporal
  convolutions) against ``1 + sum (K - 1) k jump`` computed from the variant's kernels,
  strides and dilations, so a dilation that is dropped anywhere changes it; and the
  paper's claim that dilation gives back the receptive field that unstrided groups lose;
* the whole forward pass: convolutions with explicit stride, dilation and "same" zero
  padding, batch normalisation, the residual skips, multi-head self-attention head by
  head (eqs. 3-4, ``scaled_dot_product_attention``), the LSTM (eqs. 5-9) written gate by
  gate, its last valid output, and the dense layers.
"""

from __future__ import annotations

import pytest
import torch
from serbench.data.batch import Batch, InputSpec
from serbench.lazy import resolve
from serbench.nn.masking import lengths_to_mask
from serbench.testing.reference import frontend_by_hand, lstm_by_hand, randomise_norms

from serbench_drn import plugin

TINY = {"channels": [4, 4, 8, 8, 8], "hidden_size": 6, "dense_units": 5,
        "params": None}  # tiny widths, not the variants' balanced 9.9M
FEATURES = 3


def _hparams(variant: str) -> dict[str, object]:
    return {**plugin.DEFAULTS, **plugin.VARIANTS[variant], **TINY}


def _build(variant: str) -> torch.nn.Module:
    hp = _hparams(variant)
    return resolve(plugin.DRN.builder)(InputSpec(feature_dim=FEATURES, num_classes=4), hp)


def _expected_field(hp: dict[str, object]) -> int:
    """``1 + sum_layers (K - 1) * k * jump``: a group is its entry convolution (strided)
    and two convolutions per residual unit, all with the group's kernel K and dilation k."""
    field, jump = 1, 1
    dilations = hp.get("dilations", [1] * len(hp["channels"]))
    for k, s, d, u in zip(hp["kernels"], hp["strides"], dilations, hp["units"], strict=True):
        field += (int(k) - 1) * int(d) * jump
        jump *= int(s)
        field += 2 * int(u) * (int(k) - 1) * int(d) * jump
    return field


def _measured_field(hp: dict[str, object]) -> list[int]:
    """Input frames with a non-zero gradient at the middle output frame of the front end.

    Positive weights and inputs keep every ReLU open, so these are exactly its receptive
    field (without self-attention, which would connect every frame)."""
    assert not hp["self_attention"]
    torch.manual_seed(0)
    spec = InputSpec(feature_dim=FEATURES, num_classes=4)
    frontend = resolve(plugin.DRN.builder)(spec, hp).eval().frontend
    with torch.no_grad():
        for name, p in frontend.named_parameters():
            if "conv" in name:
                p.abs_().add_(0.01)
    steps = 3 * _expected_field(hp)
    x = torch.rand(1, steps, FEATURES).add_(0.1).requires_grad_(True)
    out, lengths = frontend(x, torch.tensor([steps]))
    out[0, int(lengths[0]) // 2].sum().backward()
    return torch.nonzero(x.grad[0].abs().sum(-1)).flatten().tolist()


@pytest.mark.parametrize("variant", ["baseline", "s1", "s2"])
def test_receptive_field_follows_the_variants_dilations(variant: str) -> None:
    hp = _hparams(variant)
    expected = _expected_field(hp)
    frames = _measured_field(hp)
    assert len(frames) == expected, (variant, len(frames), expected)
    assert frames == list(range(frames[0], frames[0] + expected))


def test_dilation_compensates_the_receptive_field() -> None:
    """Sec. 2.1: removing the striding of groups 4-5 would shrink the receptive field;
    the 2- and 4-dilated convolutions give it back (at least the plain CNN's)."""
    cnn = len(_measured_field(_hparams("s1")))
    dilated = _hparams("s2")
    undilated = {**dilated, "dilations": [1] * len(dilated["channels"])}
    assert len(_measured_field(dilated)) >= cnn > len(_measured_field(undilated))


# --- the reference forward pass, one unpadded row at a time -----------------------------

@pytest.mark.parametrize("variant", ["baseline", "s1", "s2", "s3", "s4"])
def test_forward_pass_by_hand(variant: str) -> None:
    hp = _hparams(variant)
    torch.manual_seed(1)
    model = _build(variant).eval()
    randomise_norms(model)
    lengths = torch.tensor([37, 21])
    mask = lengths_to_mask(lengths)
    x = torch.randn(2, 37, FEATURES) * mask.unsqueeze(-1)
    linears = [m for m in model.classifier.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == int(hp["dense_layers"]) + 1
    with torch.no_grad():
        for att in model.frontend.attention_modules().values():
            att.qkv.weight.mul_(3.0)  # clearly non-uniform attention weights
        logits = model(Batch(x=x, lengths=lengths, mask=mask))
        features, feature_lengths = model.frontend(x, lengths)
        for b, n in enumerate(lengths.tolist()):
            m = frontend_by_hand(x[b, :n], model.frontend, hp)
            assert m.shape[0] == int(feature_lengths[b])
            torch.testing.assert_close(features[b, : m.shape[0]], m, atol=1e-5, rtol=1e-4)
            z = lstm_by_hand(m, model.lstm.lstm)[-1]
            for lin in linears[:-1]:  # stacked dense layers: Linear -> ReLU
                z = torch.relu(lin(z))
            torch.testing.assert_close(logits[b], linears[-1](z), atol=1e-5, rtol=1e-4)
