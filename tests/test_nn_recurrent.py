"""serbench.nn.recurrent.run_lstm against nn.LSTM over packed sequences: the same outputs
and gradients (inputs and every weight) in float64, uni- and bidirectional, one and
several layers, lengths of 1 and a full-length row. Chrono initialisation: the biases of
Tallec and Ollivier (2018), and what they are for, a dependency across a long silence."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from serbench.errors import ConfigError
from serbench.nn.blocks import LSTMEncoder
from serbench.nn.recurrent import chrono_init_, reverse_within_lengths, run_lstm


def _packed(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = pad_packed_sequence(lstm(packed)[0], batch_first=True, total_length=x.shape[1])
    return out


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 3])
def test_run_lstm_matches_packed(bidirectional: bool, layers: int) -> None:
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=layers, batch_first=True,
                   bidirectional=bidirectional).double()
    x = torch.randn(4, 9, 3, dtype=torch.float64)
    x[1, 4:] = 7.0  # padding that must not matter
    lengths = torch.tensor([9, 4, 1, 6])
    weights = torch.randn(4, 9, 5 * (2 if bidirectional else 1), dtype=torch.float64)
    results = []
    for run in (_packed, run_lstm):
        xi = x.clone().requires_grad_(True)
        out = run(lstm, xi, lengths)
        grads = torch.autograd.grad((out * weights).sum(), [xi, *lstm.parameters()])
        results.append((out, grads))
    (out_p, grads_p), (out_r, grads_r) = results
    torch.testing.assert_close(out_r, out_p)
    mask = (torch.arange(9) < lengths.unsqueeze(1)).unsqueeze(-1)
    torch.testing.assert_close(grads_r[0] * mask, grads_p[0] * mask)  # input grads on valid frames
    assert grads_r[0][~mask.expand_as(grads_r[0])].abs().max() == 0  # padding never read
    for a, b in zip(grads_r[1:], grads_p[1:], strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(("lengths", "expected"), [
    ([6, 3], [[5, 4, 3, 2, 1, 0], [8, 7, 6, 9, 10, 11]]),
    ([4, 6], [[3, 2, 1, 0, 4, 5], [11, 10, 9, 8, 7, 6]]),
])
def test_reverse_within_lengths_keeps_padding_and_inverts_itself(lengths, expected) -> None:
    """The one reversal the padded recurrences share (run_lstm, the AR-GRU, the A-LSTM)."""
    x = torch.arange(12.0).view(2, 6, 1)
    rev = reverse_within_lengths(x, torch.tensor(lengths))
    assert rev[0, :, 0].tolist() == expected[0]
    assert rev[1, :, 0].tolist() == expected[1]
    torch.testing.assert_close(reverse_within_lengths(rev, torch.tensor(lengths)), x)


def test_rejects_time_major_lstm() -> None:
    with pytest.raises(ValueError, match="batch_first"):
        run_lstm(nn.LSTM(3, 4), torch.zeros(2, 5, 3), torch.tensor([5, 2]))


def test_chrono_biases() -> None:
    torch.manual_seed(0)
    h, t_max = 400, 500.0
    lstm = chrono_init_(nn.LSTM(3, h, num_layers=2, bidirectional=True), t_max)
    for layer in ("l0", "l1", "l0_reverse", "l1_reverse"):
        b_ih, b_hh = getattr(lstm, f"bias_ih_{layer}"), getattr(lstm, f"bias_hh_{layer}")
        assert torch.count_nonzero(b_hh) == 0
        i, f, g, o = b_ih.detach().chunk(4)
        torch.testing.assert_close(i, -f)  # b_i = -b_f
        assert torch.count_nonzero(g) == 0 and torch.count_nonzero(o) == 0
        # b_f = log(u), u ~ U(1, t_max - 1): memory spans 1 / (1 - sigmoid(b_f)) = 1 + u
        span = 1.0 / (1.0 - torch.sigmoid(f.double()))
        assert span.min() >= 2.0 - 1e-6 and span.max() <= t_max + 1e-6
        assert abs(float(span.mean()) - t_max / 2) < 0.1 * t_max  # uniform over [2, t_max]
    # the weights are PyTorch's
    assert float(lstm.weight_hh_l0.detach().std()) == pytest.approx((1 / h) ** 0.5 / 3 ** 0.5, rel=0.05)


def test_chrono_rejects_what_it_cannot_do() -> None:
    with pytest.raises(ConfigError, match="t_max > 2 steps, not 1.5"):
        chrono_init_(nn.LSTM(3, 4), 1.5)
    with pytest.raises(ConfigError, match="bias=False"):
        chrono_init_(nn.LSTM(3, 4, bias=False), 100)


def _fit_across_silence(chrono_tmax: float | None, steps: int = 50) -> float:
    """Train a 1-layer encoder whose label is in the first 10 of 150 frames, the rest
    silence (small noise), read from the last output; returns the final training loss."""
    torch.manual_seed(0)
    n, t = 64, 150
    y = torch.arange(n) % 2
    x = torch.randn(n, t, 2) * 0.05
    x[:, :10, 0] += (2.0 * y - 1.0).unsqueeze(1)
    encoder = LSTMEncoder(2, 16, chrono_tmax=chrono_tmax)
    head = nn.Linear(16, 2)
    opt = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=1e-2)
    lengths = torch.full((n,), t)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(head(encoder(x, lengths)[0]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def test_chrono_carries_the_start_of_a_sequence_across_silence() -> None:
    # PyTorch's initialisation forgets the first frames within a few steps and stays at
    # the prior (ln 2 = 0.69); chrono's long-memory units carry them to the last step
    assert _fit_across_silence(None) > 0.6
    assert _fit_across_silence(500.0) < 0.2
