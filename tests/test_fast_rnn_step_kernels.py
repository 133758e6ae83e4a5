"""serbench.nn.fast_rnn.step_kernels: which step runs (compiled or eager), the fallback
with one warning, and that the fused GRU steps compute the ATen loop's function.

On this CPU machine the selection is forced with ``SERBENCH_RNN_COMPILE=on``; the real
``torch.compile`` path is checked by the slow test at the end and, on CUDA, by
tests/gpu/."""

from __future__ import annotations

import warnings

import pytest
import torch
from serbench_ar_gru.activations import make_activation

from serbench.nn.fast_rnn import gru, lstm_steps, step_kernels
from serbench.nn.fast_rnn.alstm import alstm_sequence
from serbench.nn.fast_rnn.gated_lstm import gated_lstm_sequence
from serbench.nn.fast_rnn.gru import gru_recurrence
from serbench.nn.fast_rnn.step_kernels import StepKernel

CPU = torch.device("cpu")


@pytest.fixture
def fresh_kernels(monkeypatch):
    """New step kernels per test (a fallback is remembered per kernel for the process)."""
    monkeypatch.setattr(gru, "STEP_TANH", StepKernel("GRU step (tanh)", gru._step_tanh))
    monkeypatch.setattr(gru, "STEP_PIECEWISE",
                        StepKernel("GRU step (ReLU/AReLU)", gru._step_piecewise))
    from serbench.nn.fast_rnn import alstm, gated_lstm

    monkeypatch.setattr(gated_lstm, "GATED_STEP", StepKernel("gated", lstm_steps.gated_step))
    monkeypatch.setattr(alstm, "ALSTM_STEP", StepKernel("A-LSTM", lstm_steps.alstm_step))
    monkeypatch.setattr(alstm, "ALSTM_CELL", StepKernel("A-LSTM cell", lstm_steps.alstm_cell))


def _run(activation: str, seed: int = 0):
    """Outputs and gradients of the GRU recurrence on padded rows (H=6, T=9, B=4)."""
    torch.manual_seed(seed)
    act = make_activation(activation, {"alpha": 0.3, "beta": 1.0, "alpha_floor": 0.01})
    gi = torch.randn(4, 9, 18, requires_grad=True)
    w_hh = (0.3 * torch.randn(18, 6)).requires_grad_()
    b_hh = torch.randn(18, requires_grad=True)
    h0 = torch.randn(4, 6, requires_grad=True)
    lengths = torch.tensor([9, 4, 1, 7])
    out, h_last = gru_recurrence(gi, lengths, h0, w_hh, b_hh, act)
    params = [gi, w_hh, b_hh, h0, *act.parameters()]
    grads = torch.autograd.grad(out.square().sum() + h_last.sum(), params)
    return out.detach(), h_last.detach(), grads


def test_selection_follows_the_device_and_the_environment(monkeypatch) -> None:
    kernel = StepKernel("test step", lambda *a: None)
    monkeypatch.delenv("SERBENCH_RNN_COMPILE", raising=False)
    assert step_kernels.mode() == "auto"
    assert not kernel.wants_compiled(CPU, torch.float32)  # auto: CUDA only
    assert kernel.wants_compiled(torch.device("cuda"), torch.float32)
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "off")
    assert not kernel.wants_compiled(torch.device("cuda"), torch.float32)
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "on")
    assert kernel.wants_compiled(CPU, torch.bfloat16)
    with pytest.warns(RuntimeWarning, match=r"compiled test step unavailable \(dtype"):
        assert not kernel.wants_compiled(CPU, torch.float64)
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "sometimes")
    with pytest.warns(RuntimeWarning, match="not one of auto, on, off"):
        assert step_kernels.mode() == "auto"


@pytest.mark.parametrize("activation", ["tanh", "relu", "arelu"])
def test_fused_steps_compute_the_aten_loop(monkeypatch, fresh_kernels, activation) -> None:
    """The fused steps run eagerly (``_compile`` the identity) against the ATen loop."""
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "off")
    out_ref, h_ref, grads_ref = _run(activation)
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "on")
    monkeypatch.setattr(step_kernels, "_compile", lambda fn: fn)
    calls = []
    original = gru._fused_step
    monkeypatch.setattr(gru, "_fused_step", lambda *a: calls.append(1) or original(*a))
    out, h, grads = _run(activation)
    assert calls and original(make_activation(activation), CPU, torch.float32) is not None
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(h, h_ref)
    for a, b in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, b)


def _run_lstm(kind: str, seed: int = 0):
    """Outputs and gradients of the A-LSTM (combining every 5th step) or the gated LSTM
    (padded rows) through their ATen loops (the compiled C++ loops switched off)."""
    torch.manual_seed(seed)
    B, T, D, H = 4, 23, 5, 6
    x = torch.randn(B, T, D, requires_grad=True)
    w_ih = (0.4 * torch.randn(4 * H, D)).requires_grad_()
    w_hh = (0.4 * torch.randn(4 * H, H)).requires_grad_()
    b = (0.1 * torch.randn(4 * H)).requires_grad_()
    if kind == "alstm":
        W = torch.randn(H, requires_grad=True)
        out = alstm_sequence(x, w_ih, w_hh, b, torch.zeros_like(b), W, time_steps=(5, 3, 1),
                             combine_every=5)
        params, loss = [x, w_ih, w_hh, b, W], out.square().sum()
        outs = (out,)
    else:
        r = torch.rand(B, T, requires_grad=True)
        lengths = torch.tensor([23, 9, 1, 17])
        out, h, c = gated_lstm_sequence(x, r, lengths, w_ih, w_hh, b)
        params, loss = [x, r, w_ih, w_hh, b], out.square().sum() + h.sum() + c.sum()
        outs = (out, h, c)
    return [o.detach() for o in outs], torch.autograd.grad(loss, params)


@pytest.mark.parametrize("kind", ["alstm", "gated"])
def test_fused_lstm_steps_compute_the_aten_loop(monkeypatch, fresh_kernels, kind) -> None:
    monkeypatch.setenv("SERBENCH_NATIVE_RNN", "0")
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "off")
    outs_ref, grads_ref = _run_lstm(kind)
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "on")
    calls = []

    def counting(fn):
        def step(*args):
            calls.append(fn.__name__)
            fn(*args)
        return step

    monkeypatch.setattr(step_kernels, "_compile", counting)
    outs, grads = _run_lstm(kind)
    assert len(calls) == 23  # one fused step per time step
    if kind == "alstm":  # steps 5, 10, 15, 20 combine: the cell step, then the mixing
        assert calls.count("alstm_cell") == 4 and calls.count("alstm_step") == 19
    for a, b in zip((*outs, *grads), (*outs_ref, *grads_ref), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("where", ["compile", "first call"])
def test_a_failing_fast_path_warns_once_and_gives_the_same_result(monkeypatch, fresh_kernels,
                                                                  where) -> None:
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "off")
    out_ref, h_ref, grads_ref = _run("arelu")
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "on")

    def broken(*args):
        raise RuntimeError("no Triton here\nsecond line of a long compiler log")

    if where == "compile":
        monkeypatch.setattr(step_kernels, "_compile", broken)
    else:
        monkeypatch.setattr(step_kernels, "_compile", lambda fn: broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, h, grads = _run("arelu")
        _run("arelu", seed=1)  # a second run: no second warning
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert messages == ["serbench: compiled GRU step (ReLU/AReLU) unavailable (RuntimeError: "
                        "no Triton here); using the ATen step"]
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(h, h_ref)
    for a, b in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.slow
@pytest.mark.parametrize("activation", ["tanh", "arelu"])
def test_torch_compile_of_the_step_on_cpu(monkeypatch, fresh_kernels, activation) -> None:
    """The real torch.compile (Inductor's C++ backend here; Triton on CUDA): ~20 s each."""
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "off")
    out_ref, h_ref, grads_ref = _run(activation)
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "on")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback would be a failure here
        out, h, grads = _run(activation)
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(h, h_ref)
    for a, b in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["alstm", "gated"])
def test_torch_compile_of_the_lstm_steps_on_cpu(monkeypatch, fresh_kernels, kind) -> None:
    monkeypatch.setenv("SERBENCH_NATIVE_RNN", "0")
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "off")
    outs_ref, grads_ref = _run_lstm(kind)
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", "on")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        outs, grads = _run_lstm(kind)
    for a, b in zip((*outs, *grads), (*outs_ref, *grads_ref), strict=True):
        torch.testing.assert_close(a, b)
