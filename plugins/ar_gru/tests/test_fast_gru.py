"""serbench's fast GRU recurrence (issue 11) against the reference loop: same outputs and
same gradients (inputs, every weight, AReLU's alpha and beta), in float64, for every
activation, padded batches, lengths of 1, batch 1, odd sizes and both directions."""

from __future__ import annotations

import pytest
import torch
from serbench.nn.fast_rnn import gru as fast_gru

from serbench_ar_gru import recurrence
from serbench_ar_gru.gru import GRU
from serbench_ar_gru.recurrence import RecurrenceEntry, reference_recurrence, select_recurrence

ACTIVATIONS = ["tanh", "relu", "arelu", "leaky_relu", "selu", "mish"]
HP = {"alpha": 0.3, "beta": 0.5}


def _pair(activation: str, bidirectional: bool, num_layers: int = 1, d: int = 3, h: int = 5):
    torch.manual_seed(0)
    ref = GRU(d, h, activation=activation, activation_hparams=HP, bidirectional=bidirectional,
              num_layers=num_layers, implementation="reference").double()
    fast = GRU(d, h, activation=activation, activation_hparams=HP, bidirectional=bidirectional,
               num_layers=num_layers, implementation="fast").double()
    fast.load_state_dict(ref.state_dict())
    return ref, fast


def _outputs_and_grads(gru: GRU, x: torch.Tensor, lengths: torch.Tensor, h0=None):
    x = x.clone().requires_grad_(True)
    out, h_n = gru(x, lengths, h0)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    ((out * weights).sum() + h_n.square().sum()).backward()
    grads = {name: p.grad.clone() for name, p in gru.named_parameters()}
    grads["x"] = x.grad.clone()
    return out.detach(), h_n.detach(), grads


def _assert_same(ref: GRU, fast: GRU, x, lengths, h0=None) -> None:
    out_r, h_r, g_r = _outputs_and_grads(ref, x, lengths, h0)
    out_f, h_f, g_f = _outputs_and_grads(fast, x, lengths, h0)
    torch.testing.assert_close(out_f, out_r, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(h_f, h_r, rtol=1e-9, atol=1e-10)
    assert g_f.keys() == g_r.keys()
    for name in g_r:
        torch.testing.assert_close(g_f[name], g_r[name], rtol=1e-8, atol=1e-9, msg=name)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fast_matches_reference_on_padded_batches(activation: str, bidirectional: bool) -> None:
    ref, fast = _pair(activation, bidirectional)
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    lengths = torch.tensor([7, 3, 1, 6])
    _assert_same(ref, fast, x, lengths)


def test_arelu_alpha_and_beta_get_the_same_gradients() -> None:
    ref, fast = _pair("arelu", True)
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 5])
    _, _, g_r = _outputs_and_grads(ref, x, lengths)
    _, _, g_f = _outputs_and_grads(fast, x, lengths)
    names = [n for n in g_r if n.endswith((".alpha", ".beta"))]
    assert len(names) == 4  # alpha and beta in each direction
    for name in names:
        assert g_r[name].abs() > 0
        torch.testing.assert_close(g_f[name], g_r[name], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(("batch", "steps", "lengths"), [
    (1, 1, [1]), (1, 5, [5]), (3, 1, [1, 1, 1]), (2, 4, [1, 1]), (5, 9, [9, 9, 9, 9, 9]),
])
def test_edge_shapes(batch: int, steps: int, lengths: list[int]) -> None:
    ref, fast = _pair("arelu", True, num_layers=2, d=1, h=3)
    x = torch.randn(batch, steps, 1, dtype=torch.float64)
    h0 = torch.randn(4, batch, 3, dtype=torch.float64)
    _assert_same(ref, fast, x, torch.tensor(lengths), h0)


def test_padding_does_not_change_the_fast_path() -> None:
    _, fast = _pair("arelu", True)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    lengths = torch.tensor([5, 3])
    out, h_n = fast(x, lengths)
    padded = torch.cat([x, torch.randn(2, 4, 3, dtype=torch.float64) * 100], dim=1)
    out_p, h_p = fast(padded, lengths)
    torch.testing.assert_close(out_p[:, :5], out)
    assert out_p[:, 5:].abs().max() == 0
    torch.testing.assert_close(h_p, h_n)
    short, _ = fast(x[1:, :3], lengths[1:])
    torch.testing.assert_close(short[0], out[1, :3])


def test_float32_training_step_agrees() -> None:
    torch.manual_seed(3)
    ref = GRU(6, 16, activation="arelu", activation_hparams={"alpha": 0.01, "beta": 1.0},
              bidirectional=True, implementation="reference")
    fast = GRU(6, 16, activation="arelu", activation_hparams={"alpha": 0.01, "beta": 1.0},
               bidirectional=True, implementation="fast")
    fast.load_state_dict(ref.state_dict())
    x, lengths = torch.randn(8, 30, 6), torch.randint(1, 31, (8,))
    _, _, g_r = _outputs_and_grads(ref, x, lengths)
    _, _, g_f = _outputs_and_grads(fast, x, lengths)
    for name in g_r:
        torch.testing.assert_close(g_f[name], g_r[name], rtol=1e-4, atol=1e-5, msg=name)


def test_auto_picks_the_fast_path_for_builtin_activations() -> None:
    for name in ACTIVATIONS:
        act = GRU(2, 3, activation=name, activation_hparams=HP).activations["l0"]
        assert select_recurrence("auto", act, torch.device("cpu")) is fast_gru.gru_recurrence
    unknown = torch.nn.Softsign()  # not declared element-wise: the reference handles it
    assert select_recurrence("auto", unknown, torch.device("cpu")) is reference_recurrence


def test_unavailable_fast_path_warns_once_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = RecurrenceEntry("fast", "serbench.nn.fast_rnn.not_built:gru_recurrence",
                             "serbench.nn.fast_rnn.gru:supports", 100)
    monkeypatch.setattr(recurrence, "_registry", {**recurrence._registry, "fast": broken})
    monkeypatch.setattr(recurrence, "_warned", set())
    torch.manual_seed(0)
    gru = GRU(3, 4, activation="arelu", activation_hparams=HP, bidirectional=True)
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 2])
    with pytest.warns(RuntimeWarning, match="fast") as caught:
        out, _ = gru(x, lengths)
        gru(x, lengths)
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1
    gru.implementation = "reference"
    expected, _ = gru(x, lengths)
    torch.testing.assert_close(out, expected)
