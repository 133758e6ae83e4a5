"""serbench's fast GCA-LSTM loop (issue 11) against the reference ``GCALSTM.attend``: same
representation F^(I) and the same gradients (inputs and every weight, through the
informativeness scores r of eq. 11 too) in float64, for padded batches, lengths of 1
and batch 1."""

from __future__ import annotations

import pytest
import torch
from serbench.nn.fast_rnn import select

from serbench_rlc.gca import GCALSTM

#: every test here runs on the compiled loops and on the ATen loops (serbench.nn.fast_rnn)
pytestmark = pytest.mark.usefixtures("rnn_loop")


def _pair(iterations: int = 3, d: int = 3, h: int = 5):
    torch.manual_seed(0)
    ref = GCALSTM(d, h, iterations, implementation="reference").double()
    fast = GCALSTM(d, h, iterations, implementation="fast").double()
    fast.load_state_dict(ref.state_dict())
    return ref, fast


def _run(module: GCALSTM, m: torch.Tensor, lengths: torch.Tensor):
    m = m.clone().requires_grad_(True)
    out = module(m, lengths)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    (out * weights + out.square()).sum().backward()
    grads = {n: p.grad.clone() for n, p in module.named_parameters()}
    grads["m"] = m.grad.clone()
    return out.detach(), grads


@pytest.mark.parametrize(("batch", "steps", "lengths"), [
    (4, 9, [9, 4, 1, 6]), (1, 1, [1]), (1, 7, [7]), (3, 1, [1, 1, 1]), (3, 8, [8, 8, 8]),
])
@pytest.mark.parametrize("iterations", [1, 3])
def test_fast_matches_reference(batch: int, steps: int, lengths: list[int], iterations: int) -> None:
    ref, fast = _pair(iterations)
    m = torch.randn(batch, steps, 3, dtype=torch.float64)
    out_r, g_r = _run(ref, m, torch.tensor(lengths))
    out_f, g_f = _run(fast, m, torch.tensor(lengths))
    torch.testing.assert_close(out_f, out_r, rtol=1e-9, atol=1e-11)
    assert g_f.keys() == g_r.keys()
    for name in g_r:
        torch.testing.assert_close(g_f[name], g_r[name], rtol=1e-8, atol=1e-10, msg=name)
    torch.testing.assert_close(fast.last_scores, ref.last_scores)


def test_gated_cell_gradient_reaches_the_scores() -> None:
    from serbench.nn.fast_rnn.gated_lstm import gated_lstm_sequence

    from serbench_rlc.gca import gca_lstm_step

    torch.manual_seed(2)
    ref, _ = _pair(1)
    h = torch.randn(2, 6, 5, dtype=torch.float64)
    r = torch.rand(2, 6, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 3])
    _, h_last, _ = gated_lstm_sequence(h, r, lengths, ref.weight_ih, ref.weight_hh, ref.bias)
    (d_fast,) = torch.autograd.grad(h_last.sum(), r)
    state = (h.new_zeros(2, 5), h.new_zeros(2, 5))
    for t in range(6):
        new = gca_lstm_step(h[:, t], *state, r[:, t:t + 1], ref.weight_ih, ref.weight_hh, ref.bias)
        keep = (t < lengths).unsqueeze(1)
        state = tuple(torch.where(keep, n, s) for n, s in zip(new, state, strict=True))
    (d_ref,) = torch.autograd.grad(state[0].sum(), r)
    torch.testing.assert_close(d_fast, d_ref, rtol=1e-9, atol=1e-12)
    assert d_ref[1, 3:].abs().max() == 0 and d_ref[:, :3].abs().min() > 0


def test_unavailable_fast_path_warns_once_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    ref, fast = _pair(2)
    monkeypatch.setattr(select, "_warned", set())
    fast.implementation = "auto"
    monkeypatch.setattr(fast, "attend_fast", "serbench.nn.fast_rnn.not_built:attend")
    m, lengths = torch.randn(2, 5, 3, dtype=torch.float64), torch.tensor([5, 2])
    with pytest.warns(RuntimeWarning, match="GCA-LSTM recurrence: fast path unavailable") as caught:
        out = fast(m, lengths)
        fast(m, lengths)
    assert len(caught) == 1
    torch.testing.assert_close(out, ref(m, lengths))
