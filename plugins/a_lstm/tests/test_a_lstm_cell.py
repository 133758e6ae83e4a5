"""The A-LSTM cell (reference loop) against its equations and against torch.nn.LSTM."""

from __future__ import annotations

import pytest
import torch
from serbench.errors import ConfigError

from serbench_a_lstm.cell import ALSTMCell, BiALSTM, run_alstm


def _copy_from_lstm(cell: ALSTMCell, lstm: torch.nn.LSTM, suffix: str = "") -> None:
    with torch.no_grad():
        cell.weight_ih.copy_(getattr(lstm, f"weight_ih_l0{suffix}"))
        cell.weight_hh.copy_(getattr(lstm, f"weight_hh_l0{suffix}"))
        cell.bias_ih.copy_(getattr(lstm, f"bias_ih_l0{suffix}"))
        cell.bias_hh.copy_(getattr(lstm, f"bias_hh_l0{suffix}"))


def test_lstm_mode_equals_torch_lstm() -> None:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(4, 6, batch_first=True)
    cell = ALSTMCell(4, 6, mode="lstm")
    _copy_from_lstm(cell, lstm)
    x = torch.randn(3, 11, 4)
    expected, _ = lstm(x)
    torch.testing.assert_close(run_alstm(cell, x), expected)


def test_bidirectional_lstm_mode_equals_torch_bilstm_on_padded_rows() -> None:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(4, 5, batch_first=True, bidirectional=True)
    layer = BiALSTM(4, 5, mode="lstm")
    _copy_from_lstm(layer.forward_cell, lstm)
    _copy_from_lstm(layer.backward_cell, lstm, "_reverse")
    lengths = torch.tensor([7, 4])
    x = torch.randn(2, 7, 4)
    x[1, 4:] = 0
    out = layer(x, lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True)
    expected, _ = torch.nn.utils.rnn.pad_packed_sequence(lstm(packed)[0], batch_first=True)
    torch.testing.assert_close(out[0], expected[0])
    torch.testing.assert_close(out[1, :4], expected[1, :4])


def _equations(cell: ALSTMCell, x: torch.Tensor) -> torch.Tensor:
    """Eqs. 6-12 written out literally for one sequence x: (L, D), with dicts by step."""
    hsz = cell.hidden_size
    C, h = {}, {}  # C_s (eq. 6) and h_s (eq. 10)
    h_comb, c_comb = torch.zeros(hsz), torch.zeros(hsz)
    Wih, Whh, b = cell.weight_ih, cell.weight_hh, cell.bias_ih + cell.bias_hh
    for s in range(1, x.shape[0] + 1):
        z = Wih @ x[s - 1] + Whh @ h_comb + b
        i, f, g, o = (z[k * hsz:(k + 1) * hsz] for k in range(4))
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        C[s] = f * c_comb + i * g  # eq. 6 with C~ of eq. 7
        if s % max(cell.time_steps) == 0:
            steps = [s + 1 - tau for tau in cell.time_steps]
            if cell.mode == "advanced":
                e = torch.stack([cell.W @ C[t] for t in steps])
                w = torch.exp(e) / torch.exp(e).sum()  # eq. 9
            else:
                w = torch.full((len(steps),), 1.0 / len(steps))
            c_comb = sum(w[k] * C[t] for k, t in enumerate(steps))  # eq. 8
            h[s] = o * torch.tanh(c_comb)  # eq. 10
            if cell.mode == "advanced":
                e = torch.stack([cell.W @ h[t] for t in steps])
                w = torch.exp(e) / torch.exp(e).sum()  # eq. 12, the same W
            h_comb = sum(w[k] * h[t] for k, t in enumerate(steps))  # eq. 11
        else:
            c_comb = C[s]
            h[s] = o * torch.tanh(C[s])
            h_comb = h[s]
    return torch.stack([h[s] for s in sorted(h)])


@pytest.mark.parametrize("mode", ["advanced", "mean"])
@pytest.mark.parametrize("steps", [(3, 2, 1), (5, 3, 1)])
def test_cell_follows_equations_6_to_12(mode: str, steps: tuple[int, ...]) -> None:
    torch.manual_seed(1)
    cell = ALSTMCell(3, 4, time_steps=steps, mode=mode)
    with torch.no_grad():
        if cell.W is not None:
            cell.W.mul_(3.0)  # make the weights clearly unequal
        x = torch.randn(2, 13, 3)
        out = run_alstm(cell, x)
        for row in range(2):
            torch.testing.assert_close(out[row], _equations(cell, x[row]))


def test_combination_only_every_max_t_steps() -> None:
    torch.manual_seed(0)
    advanced = ALSTMCell(3, 4, time_steps=(5, 3, 1))
    plain = ALSTMCell(3, 4, mode="lstm")
    plain.load_state_dict({k: v for k, v in advanced.state_dict().items() if k != "W"})
    x = torch.randn(2, 8, 3)
    with torch.no_grad():
        a, p = run_alstm(advanced, x), run_alstm(plain, x)
    torch.testing.assert_close(a[:, :4], p[:, :4])  # steps 1-4: no combination yet
    assert not torch.allclose(a[:, 4], p[:, 4])  # step 5 combines steps 1, 3, 5


def test_zero_w_is_the_mean_lstm() -> None:
    torch.manual_seed(0)
    advanced = ALSTMCell(3, 4, time_steps=(3, 2, 1))
    mean = ALSTMCell(3, 4, time_steps=(3, 2, 1), mode="mean")
    with torch.no_grad():
        advanced.W.zero_()
    mean.load_state_dict({k: v for k, v in advanced.state_dict().items() if k != "W"})
    x = torch.randn(2, 10, 3)
    with torch.no_grad():
        torch.testing.assert_close(run_alstm(advanced, x), run_alstm(mean, x))


def test_combine_weights_are_a_softmax_of_w_dot_state() -> None:
    cell = ALSTMCell(2, 3, time_steps=(3, 2, 1))
    with torch.no_grad():
        cell.W.copy_(torch.tensor([1.0, -2.0, 0.5]))
    states = torch.randn(4, 3, 3)
    combined, weights = cell.combine(states)
    expected = torch.softmax(states @ cell.W, dim=-1)
    torch.testing.assert_close(weights, expected)
    torch.testing.assert_close(combined, (expected.unsqueeze(-1) * states).sum(1))
    # look-backs before the first step take no weight
    _, partial = cell.combine(states, torch.tensor([False, True, True]))
    assert torch.all(partial[:, 0] == 0)
    torch.testing.assert_close(partial.sum(-1), torch.ones(4))


def test_combining_every_step_skips_missing_look_backs() -> None:
    torch.manual_seed(0)
    cell = ALSTMCell(3, 4, time_steps=(5, 3, 1), combine_every=1)
    out = run_alstm(cell, torch.randn(2, 6, 3))
    assert torch.isfinite(out).all()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="mode"):
        ALSTMCell(2, 2, mode="fancy")
    with pytest.raises(ConfigError, match="time_steps"):
        ALSTMCell(2, 2, time_steps=(0,))
    with pytest.raises(ConfigError, match="combine_every"):
        ALSTMCell(2, 2, combine_every=0)
