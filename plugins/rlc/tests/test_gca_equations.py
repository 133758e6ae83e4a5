"""GCA-LSTM (RLC paper, Li et al. IJCAI 2019, Sec. 3.3) against hand computations (issue 16).

* eqs. 9-10 with numbers: ``e_n = W_e1 tanh(W_e2 [h_n; F])``, ``r_n = softmax_n(e_n)``, then
  the min-max normalisation; with three or more steps min-max(softmax(e)) differs from
  min-max(e), so dropping eq. 10's softmax is caught;
* the whole forward pass written out independently (``_rlc_reference.gca_by_hand``: first
  LSTM gate by gate, layer norm, ``F^(0) = h_N``, eqs. 9-12 for every iteration, eq. 12's
  ``ReLU(W_F [F_att; F])``), with the module's weights, for the reference loop and the
  fast path.
"""

from __future__ import annotations

import math

import pytest
import torch
from _rlc_reference import gca_by_hand
from serbench.nn.masking import lengths_to_mask

from serbench_rlc.gca import GCALSTM


def _minmax(values: list[float]) -> list[float]:
    lo, hi = min(values), max(values)
    return [(v - lo) / (hi - lo) for v in values]


def test_eqs_9_and_10_with_numbers() -> None:
    gca = GCALSTM(2, 2, iterations=1)
    with torch.no_grad():
        # W_e2: (H, 2H) acting on [h_n; F]; W_e1: (1, H)
        gca.W_e2.weight.copy_(torch.tensor([[1.0, 0.0, 0.5, 0.0], [0.0, -1.0, 0.0, 2.0]]))
        gca.W_e1.weight.copy_(torch.tensor([[2.0, 1.0]]))
    h = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [2.0, -1.0]],
                      [[1.0, 1.0], [-1.0, 0.5], [0.3, 0.3], [7.0, 7.0]]])
    memory = torch.tensor([[1.0, 0.5], [0.0, -0.5]])
    mask = lengths_to_mask(torch.tensor([4, 3]), 4)
    with torch.no_grad():
        r = gca.informativeness(h, memory, mask)
    for b, n in ((0, 4), (1, 3)):
        f1, f2 = memory[b].tolist()
        e = []  # eq. 9, element by element
        for t in range(n):
            h1, h2 = h[b, t].tolist()
            a1 = math.tanh(1.0 * h1 + 0.5 * f1)
            a2 = math.tanh(-1.0 * h2 + 2.0 * f2)
            e.append(2.0 * a1 + 1.0 * a2)
        total = sum(math.exp(v) for v in e)
        soft = [math.exp(v) / total for v in e]  # eq. 10
        expected = _minmax(soft) + [0.0] * (4 - n)
        torch.testing.assert_close(r[b], torch.tensor(expected), atol=1e-6, rtol=1e-5)
        # min-max of the raw scores is a different vector: the softmax matters
        assert max(abs(a - b_) for a, b_ in zip(_minmax(e), _minmax(soft), strict=True)) > 1e-2


@pytest.mark.parametrize("implementation", ["reference", "fast"])
@pytest.mark.parametrize("layer_norm", [True, False])
def test_forward_pass_by_hand(implementation: str, layer_norm: bool) -> None:
    torch.manual_seed(0)
    gca = GCALSTM(3, 4, iterations=3, implementation=implementation, layer_norm=layer_norm)
    if gca.norm is not None:
        with torch.no_grad():
            gca.norm.weight.uniform_(0.5, 1.5)
            gca.norm.bias.uniform_(-0.3, 0.3)
    lengths = torch.tensor([6, 4])
    m = torch.randn(2, 6, 3) * lengths_to_mask(lengths).unsqueeze(-1)
    with torch.no_grad():
        out = gca(m, lengths)
        for b, n in enumerate(lengths.tolist()):
            expected, scores = gca_by_hand(m[b, :n], gca)
            torch.testing.assert_close(out[b], expected, atol=1e-5, rtol=1e-4)
            torch.testing.assert_close(gca.last_scores[b, :, :n], scores, atol=1e-5, rtol=1e-4)
    assert (out > 0).any()  # eq. 12's ReLU leaves something to compare
