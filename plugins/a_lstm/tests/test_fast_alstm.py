"""serbench's fast A-LSTM recurrence (issue 11) against the reference loop ``run_alstm``:
same outputs and gradients (inputs, every weight, the shared W of eqs. 9/12) in float64,
for the three modes, several look-back sets and combination intervals, padded batches,
lengths of 1, batch 1 and both directions."""

from __future__ import annotations

import pytest
import torch
from serbench.nn.fast_rnn import select

from serbench_a_lstm.cell import BiALSTM, run_alstm, run_alstm_fast

#: every test here runs on the compiled loops and on the ATen loops (serbench.nn.fast_rnn)
pytestmark = pytest.mark.usefixtures("rnn_loop")


def _pair(mode: str, time_steps=(5, 3, 1), every=None, d: int = 3, h: int = 5):
    torch.manual_seed(0)
    ref = BiALSTM(d, h, time_steps=time_steps, mode=mode, combine_every=every,
                  implementation="reference").double()
    with torch.no_grad():
        for cell in (ref.forward_cell, ref.backward_cell):
            if cell.W is not None:
                cell.W.normal_()  # larger than the init, so the softmax weights differ
    fast = BiALSTM(d, h, time_steps=time_steps, mode=mode, combine_every=every,
                   implementation="fast").double()
    fast.load_state_dict(ref.state_dict())
    return ref, fast


def _run(module: BiALSTM, x: torch.Tensor, lengths: torch.Tensor):
    x = x.clone().requires_grad_(True)
    out = module(x, lengths)
    mask = (torch.arange(x.shape[1]) < lengths.unsqueeze(1)).unsqueeze(-1)
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)
    (out * weights * mask).sum().backward()
    grads = {n: p.grad.clone() if p.grad is not None else torch.zeros_like(p)
             for n, p in module.named_parameters()}
    grads["x"] = x.grad.clone()
    return out.detach() * mask, grads


@pytest.mark.parametrize("mode", ["advanced", "mean", "lstm"])
@pytest.mark.parametrize(("time_steps", "every"), [((5, 3, 1), None), ((3, 2, 1), None),
                                                   ((5, 3, 1), 1), ((4, 1), 2)])
def test_fast_matches_reference(mode: str, time_steps, every) -> None:
    ref, fast = _pair(mode, time_steps, every)
    x = torch.randn(4, 13, 3, dtype=torch.float64)
    lengths = torch.tensor([13, 7, 1, 10])
    out_r, g_r = _run(ref, x, lengths)
    out_f, g_f = _run(fast, x, lengths)
    torch.testing.assert_close(out_f, out_r, rtol=1e-9, atol=1e-11)
    for name in g_r:
        torch.testing.assert_close(g_f[name], g_r[name], rtol=1e-8, atol=1e-10, msg=name)
    if mode == "advanced":
        assert g_r["forward_cell.W"].abs().max() > 0


@pytest.mark.parametrize(("batch", "steps", "lengths"), [(1, 1, [1]), (1, 6, [6]), (3, 1, [1, 1, 1]),
                                                         (2, 5, [1, 5])])
def test_edge_shapes(batch: int, steps: int, lengths: list[int]) -> None:
    ref, fast = _pair("advanced", d=1, h=3)
    x = torch.randn(batch, steps, 1, dtype=torch.float64)
    out_r, g_r = _run(ref, x, torch.tensor(lengths))
    out_f, g_f = _run(fast, x, torch.tensor(lengths))
    torch.testing.assert_close(out_f, out_r, rtol=1e-9, atol=1e-11)
    for name in g_r:
        torch.testing.assert_close(g_f[name], g_r[name], rtol=1e-8, atol=1e-10, msg=name)


def test_initial_state_gets_gradients() -> None:
    ref, _ = _pair("advanced")
    cell = ref.forward_cell
    x = torch.randn(2, 11, 3, dtype=torch.float64)
    state = [torch.randn(2, 5, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    grads = []
    for run in (run_alstm, run_alstm_fast):
        out = run(cell, x, tuple(state))
        grads.append((out, *torch.autograd.grad(out.square().sum(), state)))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-9, atol=1e-11)


def test_float32_agrees() -> None:
    torch.manual_seed(1)
    ref = BiALSTM(8, 16, implementation="reference")
    fast = BiALSTM(8, 16, implementation="fast")
    fast.load_state_dict(ref.state_dict())
    x, lengths = torch.randn(6, 40, 8), torch.randint(1, 41, (6,))
    out_r, g_r = _run(ref, x, lengths)
    out_f, g_f = _run(fast, x, lengths)
    torch.testing.assert_close(out_f, out_r, rtol=1e-4, atol=1e-5)
    for name in g_r:
        torch.testing.assert_close(g_f[name], g_r[name], rtol=1e-4, atol=1e-5, msg=name)


def test_unavailable_fast_path_warns_once_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import serbench_a_lstm.cell as cell_module

    monkeypatch.setattr(select, "_warned", set())
    monkeypatch.setattr(cell_module, "run_alstm_fast", "serbench.nn.fast_rnn.not_built:run")
    ref, fast = _pair("advanced")
    fast.implementation = "auto"
    x, lengths = torch.randn(2, 6, 3, dtype=torch.float64), torch.tensor([6, 4])
    with pytest.warns(RuntimeWarning, match="A-LSTM recurrence: fast path unavailable") as caught:
        out = fast(x, lengths)
        fast(x, lengths)
    assert len(caught) == 1
    torch.testing.assert_close(out, ref(x, lengths))
