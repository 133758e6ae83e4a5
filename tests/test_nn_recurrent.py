"""serbench.nn.recurrent.run_lstm against nn.LSTM over packed sequences: the same outputs
and gradients (inputs and every weight) in float64, uni- and bidirectional, one and
several layers, lengths of 1 and a full-length row."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from serbench.nn.recurrent import reverse_within_lengths, run_lstm


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


def test_reverse_within_lengths_keeps_padding_and_inverts_itself() -> None:
    x = torch.arange(12.0).view(2, 6, 1)
    lengths = torch.tensor([6, 3])
    rev = reverse_within_lengths(x, lengths)
    assert rev[0, :, 0].tolist() == [5, 4, 3, 2, 1, 0]
    assert rev[1, :, 0].tolist() == [8, 7, 6, 9, 10, 11]
    torch.testing.assert_close(reverse_within_lengths(rev, lengths), x)


def test_rejects_time_major_lstm() -> None:
    with pytest.raises(ValueError, match="batch_first"):
        run_lstm(nn.LSTM(3, 4), torch.zeros(2, 5, 3), torch.tensor([5, 2]))
