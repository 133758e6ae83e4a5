"""AR-GRU's cell (Rajamani et al., ICASSP 2021, Sec. 2.3, Fig. 1) against hand equations
(issue 16): the GRU step with a non-zero state, a non-zero ``W_hh`` and AReLU (eq. 1)
inside the cell, for the reference loop and the fast recurrence.

The GRU of Cho et al. (2014) in PyTorch's gate order (r, z, n), tanh replaced by AReLU::

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = AReLU(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h
    AReLU(a) = C(alpha) a for a < 0, (1 + sigmoid(beta)) a for a >= 0,  C = clamp to [0.01, 0.99]
"""

from __future__ import annotations

import math

import pytest
import torch

from serbench_ar_gru.gru import GRU

IMPLEMENTATIONS = ["reference", "fast"]


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _arelu(a: float, alpha: float, beta: float, floor: float = 0.01) -> float:
    return min(max(alpha, floor), 0.99) * a if a < 0 else (1.0 + _sigmoid(beta)) * a


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_one_unit_two_steps_with_numbers(implementation: str) -> None:
    """H = D = 1, h_0 = 0.5: step 1's candidate is negative (alpha branch), step 2's positive."""
    gru = GRU(1, 1, activation="arelu", activation_hparams={"alpha": 0.2, "beta": 1.0},
              implementation=implementation)
    w_ih, w_hh = [0.4, -0.3, 1.5], [0.6, 0.8, -2.0]  # (r, z, n)
    b_ih, b_hh = [0.1, 0.0, -0.2], [-0.1, 0.2, 0.3]
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.tensor(w_ih).view(3, 1))
        gru.weight_hh_l0.copy_(torch.tensor(w_hh).view(3, 1))
        gru.bias_ih_l0.copy_(torch.tensor(b_ih))
        gru.bias_hh_l0.copy_(torch.tensor(b_hh))
    xs, h = [0.3, 1.2], 0.5
    expected, candidates = [], []
    for x in xs:
        r = _sigmoid(w_ih[0] * x + b_ih[0] + w_hh[0] * h + b_hh[0])
        z = _sigmoid(w_ih[1] * x + b_ih[1] + w_hh[1] * h + b_hh[1])
        a = w_ih[2] * x + b_ih[2] + r * (w_hh[2] * h + b_hh[2])
        candidates.append(a)
        n = _arelu(a, 0.2, 1.0)
        h = (1 - z) * n + z * h
        expected.append(h)
    assert candidates[0] < 0 < candidates[1]  # both branches of eq. 1 are used
    with torch.no_grad():
        out, h_n = gru(torch.tensor(xs).view(1, 2, 1), torch.tensor([2]),
                       torch.tensor([[[0.5]]]))
    torch.testing.assert_close(out.flatten(), torch.tensor(expected))
    torch.testing.assert_close(h_n.flatten(), torch.tensor(expected[-1:]))


def _direction_by_hand(x: torch.Tensor, h: torch.Tensor, gru: GRU, name: str) -> torch.Tensor:
    """One direction over x (T, D) from state h (H,): the equations above, gate by gate."""
    hid = gru.hidden_size
    act = gru.activations[name]
    alpha, beta = act.alpha.item(), act.beta.item()
    w_ir, w_iz, w_in = getattr(gru, f"weight_ih_{name}").split(hid)
    w_hr, w_hz, w_hn = getattr(gru, f"weight_hh_{name}").split(hid)
    b_ir, b_iz, b_in = getattr(gru, f"bias_ih_{name}").split(hid)
    b_hr, b_hz, b_hn = getattr(gru, f"bias_hh_{name}").split(hid)
    outputs = []
    for x_t in x:
        r = torch.sigmoid(w_ir @ x_t + b_ir + w_hr @ h + b_hr)
        z = torch.sigmoid(w_iz @ x_t + b_iz + w_hz @ h + b_hz)
        a = w_in @ x_t + b_in + r * (w_hn @ h + b_hn)
        n = torch.tensor([_arelu(v, alpha, beta) for v in a.tolist()])
        h = (1 - z) * n + z * h
        outputs.append(h)
    return torch.stack(outputs)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize(("alpha", "beta"), [(0.3, 0.5), (1.7, -1.0), (0.001, 2.0)])
def test_bidirectional_arelu_gru_by_hand(implementation: str, alpha: float, beta: float) -> None:
    """Random weights (W_hh non-zero), a random h_0, padded rows, both directions; the
    learnt alpha and beta are moved away from their initial values first, and alpha
    outside [0.01, 0.99] must be clamped."""
    torch.manual_seed(0)
    gru = GRU(3, 4, activation="arelu", activation_hparams={"alpha": 0.5, "beta": 0.0},
              bidirectional=True, implementation=implementation)
    with torch.no_grad():
        for act in gru.activations.values():
            act.alpha.fill_(alpha)
            act.beta.fill_(beta)
        gru.weight_hh_l0.mul_(2.0)
    lengths = torch.tensor([6, 3])
    x = torch.randn(2, 6, 3) * 2
    h0 = torch.randn(2, 2, 4)
    with torch.no_grad():
        out, h_n = gru(x, lengths, h0)
    for b, n in enumerate(lengths.tolist()):
        fwd = _direction_by_hand(x[b, :n], h0[0, b], gru, "l0")
        bwd = _direction_by_hand(x[b, :n].flip(0), h0[1, b], gru, "l0_reverse").flip(0)
        torch.testing.assert_close(out[b, :n], torch.cat([fwd, bwd], -1), atol=1e-5, rtol=1e-4)
        assert torch.all(out[b, n:] == 0)
        torch.testing.assert_close(h_n[0, b], fwd[-1], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(h_n[1, b], bwd[0], atol=1e-5, rtol=1e-4)
