"""IAAN's forward pass end to end against a reference written here (issue 16).

The reference follows Yeh, Lin and Lee (ICASSP 2019) as the AR-GRU paper (Rajamani et
al., ICASSP 2021, Sec. 3.2) describes it: a BiGRU over the current utterance, a GRU with
additive self-attention over each previous turn (the speaker's own, ``h_p``, and the
interlocutor's, ``h_r``), interaction-aware attention over the current frames
``alpha_t = softmax_t(u^T tanh(W_c h_t + W_p h_p + W_r h_r + b))``, then
``[sum_t alpha_t h_t; h_p; h_r]`` -> FC -> LayerNorm -> ReLU -> classifier. Every GRU is
written gate by gate with the candidate activation of the variant (tanh, ReLU, AReLU
eq. 1). Each row is computed alone and unpadded, with the module's weights; the module
runs on a padded batch in eval mode. A missing previous turn is a zero vector, or with
``absent_context="pad_frame"`` the encoding of one zero frame. In train mode, the dropout
masks the module drew are applied where the published code puts dropout.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from serbench.data.batch import InputSpec
from serbench.data.dataset import collate

from serbench_ar_gru.gru import GRU
from serbench_ar_gru.iaan import IAAN, build
from serbench_ar_gru.plugin import DEFAULTS

SMALL = {**DEFAULTS, "hidden_size": 5, "attention_size": 4, "fc_size": 6}
FEATURES = 3


def _candidate(a: torch.Tensor, act: torch.nn.Module, name: str) -> torch.Tensor:
    if name == "tanh":
        return torch.tanh(a)
    if name == "relu":
        return torch.clamp(a, min=0.0)
    # AReLU, eq. 1: C(alpha) a for a < 0, (1 + sigmoid(beta)) a for a >= 0
    c_alpha = min(max(act.alpha.item(), act.alpha_floor), act.alpha_ceiling)
    scale = 1.0 + 1.0 / (1.0 + math.exp(-act.beta.item()))
    return torch.where(a < 0, c_alpha * a, scale * a)


def _gru(x: torch.Tensor, gru: GRU, suffix: str = "") -> torch.Tensor:
    """One direction of layer 0, zero initial state, x (T, D) -> (T, H)."""
    name = f"l0{suffix}"
    hid = gru.hidden_size
    w_ir, w_iz, w_in = getattr(gru, f"weight_ih_{name}").split(hid)
    w_hr, w_hz, w_hn = getattr(gru, f"weight_hh_{name}").split(hid)
    b_ir, b_iz, b_in = getattr(gru, f"bias_ih_{name}").split(hid)
    b_hr, b_hz, b_hn = getattr(gru, f"bias_hh_{name}").split(hid)
    h = x.new_zeros(hid)
    out = []
    for x_t in x:
        r = torch.sigmoid(w_ir @ x_t + b_ir + w_hr @ h + b_hr)
        z = torch.sigmoid(w_iz @ x_t + b_iz + w_hz @ h + b_hz)
        n = _candidate(w_in @ x_t + b_in + r * (w_hn @ h + b_hn), gru.activations[name],
                       gru.activation_name)
        h = (1 - z) * n + z * h
        out.append(h)
    return torch.stack(out)


def _context(x: torch.Tensor, encoder: torch.nn.Module) -> torch.Tensor:
    """A previous turn -> ``sum_t a_t h_t``, ``a = softmax_t(u^T tanh(W^T h_t + b))``."""
    h = _gru(x, encoder.gru)
    att = encoder.attention
    e = torch.stack([att.u @ torch.tanh(att.W.T @ h_t + att.b) for h_t in h])
    a = torch.exp(e) / torch.exp(e).sum()
    return (a.unsqueeze(-1) * h).sum(0)


def _iaan(x: torch.Tensor, prev_self: torch.Tensor | None, prev_other: torch.Tensor | None,
          model: IAAN, zero: torch.Tensor | None = None,
          dropout: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """Logits (C,) of one row: x (T, D) and the two previous turns (Ts, D); a turn given as
    None is the vector ``zero``. ``dropout``: the scales (0 or 1 / (1 - p)) of the current
    GRU's inputs (T, D) and outputs (T, H_c) and of the FC layer (F,); none by default."""
    drop = dropout or {}
    x = x * drop.get("input_dropout", 1.0)
    h = _gru(x, model.current)
    if model.current.bidirectional:
        h = torch.cat([h, _gru(x.flip(0), model.current, "_reverse").flip(0)], dim=-1)
    h = h * drop.get("output_dropout", 1.0)
    h_p = zero if prev_self is None else _context(prev_self, model.prev_self)
    h_r = zero if prev_other is None else _context(prev_other, model.prev_other)
    att = model.attention
    e = torch.stack([att.u @ torch.tanh(att.W_c.T @ h_t + att.W_p.T @ h_p + att.W_r.T @ h_r
                                        + att.b) for h_t in h])
    alpha = torch.exp(e) / torch.exp(e).sum()
    features = torch.cat([(alpha.unsqueeze(-1) * h).sum(0), h_p, h_r])
    y = (model.fc.weight @ features + model.fc.bias) * drop.get("fc_dropout", 1.0)
    y = (y - y.mean()) / torch.sqrt(y.var(unbiased=False) + model.norm.eps)
    y = torch.clamp(y * model.norm.weight + model.norm.bias, min=0.0)  # LayerNorm, ReLU
    return model.classifier.weight @ y + model.classifier.bias


def _items(seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    items = []
    for i, (t, ts, to) in enumerate([(7, 4, 3), (3, 6, 2), (5, 2, 5)]):
        items.append({
            "utt_id": f"u{i}", "targets": {"emotion": i},
            "x": rng.normal(size=(t, FEATURES)).astype(np.float32),
            "prev_self": rng.normal(size=(ts, FEATURES)).astype(np.float32),
            "prev_other": rng.normal(size=(to, FEATURES)).astype(np.float32),
        })
    return items


@pytest.mark.parametrize(("activation", "extra"), [
    ("arelu", {"alpha": 0.3, "beta": 1.0}),
    ("arelu", {"alpha": 0.01, "beta": -4.0}),
    ("tanh", {}),
    ("relu", {}),
])
@pytest.mark.parametrize("implementation", ["reference", "auto"])
def test_forward_pass_matches_the_reference(activation: str, extra: dict[str, float],
                                            implementation: str) -> None:
    torch.manual_seed(0)
    hp = {**SMALL, "activation": activation, **extra, "gru_implementation": implementation}
    model = build(InputSpec(feature_dim=FEATURES, num_classes=4), hp).eval()
    with torch.no_grad():  # away from the initialisation: larger weights, a moved LayerNorm
        for p in (model.attention.u, model.prev_self.attention.u, model.prev_other.attention.u):
            p.mul_(10.0)
        model.norm.weight.uniform_(0.5, 1.5)
        model.norm.bias.uniform_(-0.5, 0.5)
    items = _items(1)
    batch = collate(items, "frames")
    with torch.no_grad():
        logits = model(batch)
        for b, item in enumerate(items):
            expected = _iaan(*(torch.from_numpy(item[k]) for k in ("x", "prev_self", "prev_other")),
                             model)
            torch.testing.assert_close(logits[b], expected, atol=1e-5, rtol=1e-4)


def test_unidirectional_current_encoder_matches_the_reference() -> None:
    torch.manual_seed(1)
    model = build(InputSpec(feature_dim=FEATURES, num_classes=4),
                  {**SMALL, "bidirectional": False}).eval()
    items = _items(2)
    with torch.no_grad():
        logits = model(collate(items, "frames"))
        for b, item in enumerate(items):
            expected = _iaan(*(torch.from_numpy(item[k]) for k in ("x", "prev_self", "prev_other")),
                             model)
            torch.testing.assert_close(logits[b], expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("absent_context", ["zero", "pad_frame"])
def test_missing_turns_match_the_reference(absent_context: str) -> None:
    """A missing turn is a zero vector (``zero``) or the encoding of one zero frame
    (``pad_frame``, IAAN's published code); everything else is unchanged."""
    torch.manual_seed(2)
    model = build(InputSpec(feature_dim=FEATURES, num_classes=4),
                  {**SMALL, "absent_context": absent_context}).eval()
    items = _items(3)
    items[1]["prev_self"] = None
    items[2]["prev_other"] = None
    hid = SMALL["hidden_size"]
    with torch.no_grad():
        logits = model(collate(items, "frames"))
        for b, item in enumerate(items):
            turns = []
            for name in ("prev_self", "prev_other"):
                if item[name] is not None:
                    turns.append(torch.from_numpy(item[name]))
                elif absent_context == "zero":
                    turns.append(None)
                else:
                    turns.append(torch.zeros(1, FEATURES))
            expected = _iaan(torch.from_numpy(item["x"]), *turns, model, zero=torch.zeros(hid))
            torch.testing.assert_close(logits[b], expected, atol=1e-5, rtol=1e-4)


def test_train_mode_dropout_on_the_current_grus_inputs_outputs_and_the_fc_layer() -> None:
    """IAAN's published code wraps the current utterance's GRU in a DropoutWrapper (inputs
    and outputs) and drops the FC layer's output; the masks the module drew (read by
    hooks) applied there reproduce its train-mode output, so moving, adding or removing
    a dropout layer fails."""
    torch.manual_seed(3)
    model = build(InputSpec(feature_dim=FEATURES, num_classes=4), {**SMALL, "dropout": 0.4}).train()
    scales: dict[str, torch.Tensor] = {}

    def record(name: str):
        def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor], output: torch.Tensor) -> None:
            (inp,) = inputs
            scales[name] = torch.where(inp != 0, output / torch.where(inp != 0, inp, 1.0), 0.0)
        return hook

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Dropout):
            module.register_forward_hook(record(name))
    items = _items(4)
    torch.manual_seed(4)
    with torch.no_grad():
        logits = model(collate(items, "frames"))
    assert set(scales) == {"input_dropout", "output_dropout", "fc_dropout"}
    assert (scales["output_dropout"] == 0).any()
    with torch.no_grad():
        for b, item in enumerate(items):
            n = item["x"].shape[0]
            row = {"input_dropout": scales["input_dropout"][b, :n],
                   "output_dropout": scales["output_dropout"][b, :n],
                   "fc_dropout": scales["fc_dropout"][b]}
            expected = _iaan(*(torch.from_numpy(item[k]) for k in ("x", "prev_self", "prev_other")),
                             model, dropout=row)
            torch.testing.assert_close(logits[b], expected, atol=1e-5, rtol=1e-4)
