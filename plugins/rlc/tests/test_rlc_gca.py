"""GCA-LSTM (RLC paper Sec. 3.3): eq. 11, the min-max normalisation, the reference loop."""

from __future__ import annotations

import torch
from serbench.nn.masking import lengths_to_mask

from serbench_rlc.gca import GCALSTM, gated_cell_update, gca_lstm_step, normalise_informativeness


def test_eq11_by_hand() -> None:
    c_prev = torch.tensor([[2.0, -1.0]])
    f = torch.tensor([[0.5, 0.25]])
    i = torch.tensor([[0.8, 0.1]])
    g = torch.tensor([[0.5, -1.0]])
    r = torch.tensor([[0.25]])
    # c = f*c_prev*(1-r) + i*g*r
    expected = torch.tensor([[0.5 * 2.0 * 0.75 + 0.8 * 0.5 * 0.25, 0.25 * -1.0 * 0.75 + 0.1 * -1.0 * 0.25]])
    torch.testing.assert_close(gated_cell_update(c_prev, f, i, g, r), expected)


def test_eq11_extremes() -> None:
    c_prev, f, i, g = (torch.randn(3, 4) for _ in range(4))
    # r = 0: nothing imported, the forget-gated cell is carried on.
    torch.testing.assert_close(gated_cell_update(c_prev, f, i, g, torch.zeros(3, 1)), f * c_prev)
    # r = 1: the old cell is dropped, the gated candidate imported.
    torch.testing.assert_close(gated_cell_update(c_prev, f, i, g, torch.ones(3, 1)), i * g)


def test_step_matches_lstm_gates() -> None:
    """The step computes nn.LSTMCell's gates (i, f, g, o order) and then eq. 11."""
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(3, 5)
    x, h, c = torch.randn(2, 3), torch.randn(2, 5), torch.randn(2, 5)
    r = torch.tensor([[0.3], [0.9]])
    bias = cell.bias_ih + cell.bias_hh
    h_new, c_new = gca_lstm_step(x, h, c, r, cell.weight_ih, cell.weight_hh, bias)
    gates = x @ cell.weight_ih.T + h @ cell.weight_hh.T + bias
    i, f, g, o = gates.chunk(4, -1)
    c_expected = torch.sigmoid(f) * c * (1 - r) + torch.sigmoid(i) * torch.tanh(g) * r
    torch.testing.assert_close(c_new, c_expected)
    torch.testing.assert_close(h_new, torch.sigmoid(o) * torch.tanh(c_expected))


def test_normalisation_range_and_padding() -> None:
    r = torch.tensor([[0.1, 0.5, 0.3, 9.0], [0.2, 0.2, 0.7, 0.1]])
    mask = lengths_to_mask(torch.tensor([3, 4]), 4)
    out = normalise_informativeness(r, mask)
    torch.testing.assert_close(out[0], torch.tensor([0.0, 1.0, 0.5, 0.0]))  # padding ignored, zeroed
    torch.testing.assert_close(out[1], torch.tensor([1 / 6, 1 / 6, 1.0, 0.0]))
    assert out.min() >= 0 and out.max() <= 1


def test_normalisation_flat_row_and_single_step() -> None:
    mask = lengths_to_mask(torch.tensor([3, 1]), 3)
    out = normalise_informativeness(torch.tensor([[0.2, 0.2, 0.2], [1.0, 0.0, 0.0]]), mask)
    torch.testing.assert_close(out, torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]))


def test_normalisation_gradient_is_finite_on_flat_rows() -> None:
    r = torch.full((1, 3), 0.5, requires_grad=True)
    normalise_informativeness(r, torch.ones(1, 3, dtype=torch.bool)).sum().backward()
    assert torch.isfinite(r.grad).all()


def test_gca_lstm_scores_and_padding() -> None:
    torch.manual_seed(0)
    gca = GCALSTM(6, 5, iterations=3).eval()
    m = torch.randn(2, 7, 6)
    lengths = torch.tensor([7, 4])
    m[1, 4:] = 0
    with torch.no_grad():
        out = gca(m, lengths)
        scores = gca.last_scores
        alone = gca(m[1:2, :4], lengths[1:])
    assert out.shape == (2, 5) and (out >= 0).all()  # eq. 12 ends in a ReLU
    assert scores.shape == (2, 3, 7)
    assert torch.all(scores[1, :, 4:] == 0)
    for row, n in ((0, 7), (1, 4)):
        valid = scores[row, :, :n]
        torch.testing.assert_close(valid.amin(-1), torch.zeros(3))
        torch.testing.assert_close(valid.amax(-1), torch.ones(3))
    torch.testing.assert_close(alone[0], out[1], atol=1e-6, rtol=1e-5)


def test_iterations_change_the_representation() -> None:
    torch.manual_seed(0)
    gca = GCALSTM(4, 6, iterations=1)
    m, lengths = torch.randn(3, 5, 4), torch.tensor([5, 3, 2])
    with torch.no_grad():
        one = gca(m, lengths)
        gca.iterations = 3
        three = gca(m, lengths)
    assert not torch.allclose(one, three)


def test_representation_keeps_its_scale() -> None:
    """Issue 8: F^(I) must reach the classifier at a usable scale and vary across utterances.

    Before the fix (no layer norm, no forget bias, default ``Linear`` initialisation of
    ``W_F``) the bias-free ReLU refinements shrank the memory to rms ~0.006 with a spread
    across utterances ~0.0007 at initialisation, and RLC S3 stayed at chance.
    """
    torch.manual_seed(0)
    gca = GCALSTM(16, 32, iterations=3, implementation="reference")
    m = torch.randn(8, 20, 16)
    lengths = torch.tensor([20, 18, 15, 20, 12, 19, 20, 16])
    with torch.no_grad():
        out = gca(m * lengths_to_mask(lengths, 20).unsqueeze(-1), lengths)
    assert out.pow(2).mean().sqrt() > 0.05
    assert out.std(dim=0).mean() > 0.01


def test_authors_code_details() -> None:
    """Layer-normalised first-LSTM outputs, forget-gate bias +1, switchable (issue 8)."""
    torch.manual_seed(0)
    gca = GCALSTM(4, 6, iterations=1, implementation="reference")
    torch.manual_seed(0)
    plain = GCALSTM(4, 6, iterations=1, implementation="reference", layer_norm=False,
                    forget_bias=0.0)
    assert gca.norm is not None and plain.norm is None
    shift = gca.first.bias_ih_l0.detach() - plain.first.bias_ih_l0.detach()
    # gate order (i, f, g, o): only the forget slice moves, by exactly +1
    torch.testing.assert_close(shift, torch.cat([torch.zeros(6), torch.ones(6), torch.zeros(12)]))
