"""On CUDA: the custom cells' fast paths (serbench.nn.fast_rnn: the GRU with any candidate
activation, the A-LSTM, the GCA gated LSTM; each with its fused compiled step and with the
ATen step) against the plugins' reference loops, outputs and gradients, in fp32 (TF32
off) and fp64 (no fused step)."""

from __future__ import annotations

from _gpu import require_cuda

require_cuda()

import warnings  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from serbench_a_lstm.cell import ALSTMCell, run_alstm, run_alstm_fast  # noqa: E402
from serbench_ar_gru.activations import make_activation  # noqa: E402
from serbench_ar_gru.recurrence import reference_recurrence  # noqa: E402
from serbench_rlc.gca import GCALSTM  # noqa: E402

from serbench.nn.fast_rnn import step_kernels  # noqa: E402
from serbench.nn.fast_rnn.gru import gru_recurrence  # noqa: E402

pytestmark = pytest.mark.gpu
DEV = torch.device("cuda")
#: fp32 on the GPU: both sides sum hundreds of steps in different orders (hand-written
#: backward vs autograd); fp64 must agree to rounding
TOL = {torch.float32: {"rtol": 2e-4, "atol": 2e-5}, torch.float64: {"rtol": 1e-9, "atol": 1e-11}}


@pytest.fixture(autouse=True)
def _no_tf32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _grads(loss: torch.Tensor, params: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    return torch.autograd.grad(loss, params, allow_unused=True)


def _close(a, b, dtype) -> None:
    for x, y in zip(a, b, strict=True):
        if x is None or y is None:
            assert x is None and y is None
            continue
        torch.testing.assert_close(x, y, **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("activation", ["tanh", "relu", "arelu", "mish"])
@pytest.mark.parametrize("compiled", ["on", "off"])
def test_gru_fast_path_matches_the_reference(monkeypatch, activation, dtype, compiled) -> None:
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", compiled)
    torch.manual_seed(0)
    act = make_activation(activation, {"alpha": 0.3, "beta": 1.0, "alpha_floor": 0.01})
    act = act.to(DEV, dtype)
    B, T, H = 8, 120, 32
    # small weights keep the state bounded: with AReLU's unbounded positive side, large
    # ones make it grow (to ~1e3 over 120 steps), and any two summation orders drift apart
    gi = (0.5 * torch.randn(B, T, 3 * H, device=DEV, dtype=dtype)).requires_grad_()
    w_hh = (0.1 * torch.randn(3 * H, H, device=DEV, dtype=dtype)).requires_grad_()
    b_hh = (0.1 * torch.randn(3 * H, device=DEV, dtype=dtype)).requires_grad_()
    h0 = torch.randn(B, H, device=DEV, dtype=dtype, requires_grad=True)
    lengths = torch.tensor([120, 97, 3, 120, 60, 1, 119, 80], device=DEV)
    params = [gi, w_hh, b_hh, h0, *act.parameters()]
    out, h = _no_fallback(compiled, dtype,  # Mish has no fused step: the ATen loop runs
                          lambda: gru_recurrence(gi, lengths, h0, w_hh, b_hh, act))
    out_ref, h_ref = reference_recurrence(gi, lengths, h0, w_hh, b_hh, act)
    _close((out, h), (out_ref, h_ref), dtype)
    loss, loss_ref = out.square().sum() + h.sum(), out_ref.square().sum() + h_ref.sum()
    _close(_grads(loss, params), _grads(loss_ref, params), dtype)


def _no_fallback(compiled: str, dtype: torch.dtype, run):
    """``run()``, checking that the fused CUDA step did not fall back when it should run."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    fell_back = [w for w in caught if "unavailable" in str(w.message)]
    if compiled == "on" and dtype == torch.float32:
        assert not fell_back, f"the compiled CUDA step fell back: {fell_back[0].message}"
    return result


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mode", ["advanced", "mean", "lstm"])
@pytest.mark.parametrize("compiled", ["on", "off"])
def test_alstm_fast_path_matches_the_reference(monkeypatch, mode, dtype, compiled) -> None:
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", compiled)
    torch.manual_seed(0)
    cell = ALSTMCell(24, 16, (5, 3, 1), mode).to(DEV, dtype)
    x = torch.randn(6, 53, 24, device=DEV, dtype=dtype, requires_grad=True)
    params = [x, *cell.parameters()]
    out = _no_fallback(compiled, dtype, lambda: run_alstm_fast(cell, x))
    out_ref = run_alstm(cell, x)
    _close((out,), (out_ref,), dtype)
    _close(_grads(out.square().sum(), params), _grads(out_ref.square().sum(), params), dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("compiled", ["on", "off"])
def test_gca_gated_lstm_fast_path_matches_the_reference(monkeypatch, dtype, compiled) -> None:
    monkeypatch.setenv("SERBENCH_RNN_COMPILE", compiled)
    torch.manual_seed(0)
    gca = GCALSTM(20, 16, iterations=2).to(DEV, dtype)
    h = torch.randn(5, 41, 16, device=DEV, dtype=dtype, requires_grad=True)
    r = torch.rand(5, 41, device=DEV, dtype=dtype, requires_grad=True)
    lengths = torch.tensor([41, 30, 7, 1, 41], device=DEV)
    mask = torch.arange(41, device=DEV)[None, :] < lengths[:, None]
    params = [h, r, *gca.parameters()]
    fast = _no_fallback(compiled, dtype, lambda: gca.attend_fast(h, r, mask))
    ref = gca.attend(h, r, mask)
    _close((fast,), (ref,), dtype)
    _close(_grads(fast.square().sum(), params), _grads(ref.square().sum(), params), dtype)


def test_cuda_auto_mode_selects_the_compiled_step(monkeypatch) -> None:
    monkeypatch.delenv("SERBENCH_RNN_COMPILE", raising=False)
    assert step_kernels.mode() == "auto"
    kernel = step_kernels.StepKernel("probe", lambda *a: None)
    assert kernel.wants_compiled(DEV, torch.float32)
    assert kernel.wants_compiled(DEV, torch.bfloat16)
