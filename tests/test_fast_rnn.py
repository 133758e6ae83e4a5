"""serbench.nn.fast_rnn: the fast recurrences against PyTorch's own cells where the custom
cell reduces to one (tanh GRU = nn.GRU, A-LSTM without combination = nn.LSTM), and the
implementation switch. The comparisons with each paper's reference loop live in the
plugins' tests (plugins/*/tests/test_fast_*.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from serbench.errors import ConfigError
from serbench.nn.fast_rnn import select
from serbench.nn.fast_rnn.alstm import alstm_sequence
from serbench.nn.fast_rnn.gated_lstm import gated_lstm_sequence
from serbench.nn.fast_rnn.gru import gru_recurrence, supports

#: the A-LSTM and gated-LSTM tests run on the compiled loops and on the ATen loops
on_both_loops = pytest.mark.usefixtures("rnn_loop")

torch.set_num_threads(1)


def _packed(rnn: nn.Module, x: torch.Tensor, lengths: torch.Tensor):
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, state = rnn(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out, state


def test_tanh_gru_recurrence_is_torch_gru() -> None:
    torch.manual_seed(0)
    gru = nn.GRU(3, 5, batch_first=True).double()
    x = torch.randn(4, 7, 3, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([7, 2, 1, 5])
    act = nn.Tanh()
    act.activation_name = "tanh"
    gi = nn.functional.linear(x, gru.weight_ih_l0, gru.bias_ih_l0)
    out, h = gru_recurrence(gi, lengths, x.new_zeros(4, 5), gru.weight_hh_l0, gru.bias_hh_l0, act)
    out_ref, h_ref = _packed(gru, x, lengths)
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(h, h_ref[0])
    params = [x, *gru.parameters()]
    grads = torch.autograd.grad(out.sum() + h.square().sum(), params)
    grads_ref = torch.autograd.grad(out_ref.sum() + h_ref.square().sum(), params)
    for a, b in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, b)


def test_supports_only_elementwise_activations() -> None:
    act = nn.Tanh()
    assert not supports(act, torch.device("cpu"))  # unnamed: not known to be element-wise
    act.activation_name = "tanh"
    assert supports(act, torch.device("cpu"))
    inplace = nn.ReLU(inplace=True)
    inplace.activation_name = "relu"
    assert not supports(inplace, torch.device("cpu"))
    softmax = nn.Softmax(dim=-1)
    softmax.elementwise = False
    assert not supports(softmax, torch.device("cpu"))


@on_both_loops
def test_alstm_without_combination_is_torch_lstm() -> None:
    torch.manual_seed(1)
    lstm = nn.LSTM(3, 6, batch_first=True).double()
    x = torch.randn(2, 9, 3, dtype=torch.float64, requires_grad=True)
    out = alstm_sequence(x, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0,
                         lstm.bias_hh_l0, None, combine=False)
    out_ref, _ = lstm(x)
    torch.testing.assert_close(out, out_ref)
    params = [x, *lstm.parameters()]
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), params)
    grads_ref = torch.autograd.grad((out_ref * weights).sum(), params)
    for a, b in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, b)


@on_both_loops
def test_gated_lstm_with_fully_informative_steps() -> None:
    # r = 1: c_t = i * g (eq. 11 imports the candidate fully, drops the old cell)
    torch.manual_seed(2)
    w_ih, w_hh, bias = torch.randn(16, 3), torch.randn(16, 4), torch.randn(16)
    x = torch.randn(1, 3, 3)
    out, h_last, c_last = gated_lstm_sequence(x, torch.ones(1, 3), torch.tensor([3]),
                                              w_ih, w_hh, bias)
    h = c = torch.zeros(1, 4)
    for t in range(3):
        i, f, g, o = (x[:, t] @ w_ih.T + h @ w_hh.T + bias).chunk(4, dim=-1)
        c = torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        torch.testing.assert_close(out[:, t], h)
    torch.testing.assert_close(h_last, h)
    torch.testing.assert_close(c_last, c)


def test_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "_warned", set())

    def reference():
        return "reference"

    def fast():
        return "fast"

    assert select.choose("reference", fast, reference, what="x") is reference
    assert select.choose("fast", fast, reference, what="x") is fast
    assert select.choose("auto", fast, reference, what="x") is fast
    assert select.choose("auto", "os.path:join", reference, what="x").__name__ == "join"
    with pytest.raises(ConfigError, match="auto, fast, reference"):
        select.choose("quick", fast, reference, what="x")
    with pytest.raises(Exception, match="not_built"):
        select.choose("fast", "serbench.nn.fast_rnn.not_built:f", reference, what="x")
    with pytest.warns(RuntimeWarning, match="cell: fast path unavailable") as caught:
        assert select.choose("auto", "serbench.nn.fast_rnn.not_built:f", reference,
                             what="cell") is reference
        assert select.choose("auto", "serbench.nn.fast_rnn.not_built:f", reference,
                             what="cell") is reference
    assert len(caught) == 1


@on_both_loops
def test_gated_lstm_gradients_through_outputs_and_padding() -> None:
    torch.manual_seed(4)
    b, n, d, h = 3, 6, 2, 4
    x = torch.randn(b, n, d, dtype=torch.float64, requires_grad=True)
    r = torch.rand(b, n, dtype=torch.float64, requires_grad=True)
    w_ih = torch.randn(4 * h, d, dtype=torch.float64, requires_grad=True)
    w_hh = torch.randn(4 * h, h, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(4 * h, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 1, 4])
    out, h_last, c_last = gated_lstm_sequence(x, r, lengths, w_ih, w_hh, bias)
    state_h = state_c = x.new_zeros(b, h)
    outs = []
    for t in range(n):  # eq. 11 step by step, autograd
        i, f, g, o = (x[:, t] @ w_ih.T + state_h @ w_hh.T + bias).chunk(4, dim=-1)
        rt = r[:, t : t + 1]
        c = torch.sigmoid(f) * state_c * (1 - rt) + torch.sigmoid(i) * torch.tanh(g) * rt
        new_h = torch.sigmoid(o) * torch.tanh(c)
        keep = (t < lengths).unsqueeze(1)
        outs.append(new_h * keep)
        state_h, state_c = torch.where(keep, new_h, state_h), torch.where(keep, c, state_c)
    out_ref = torch.stack(outs, dim=1)
    torch.testing.assert_close(out, out_ref)
    weights = torch.randn_like(out)
    params = [x, r, w_ih, w_hh, bias]
    loss = (out * weights).sum() + h_last.square().sum() + c_last.sum()
    loss_ref = (out_ref * weights).sum() + state_h.square().sum() + state_c.sum()
    for a, b_ in zip(torch.autograd.grad(loss, params), torch.autograd.grad(loss_ref, params),
                     strict=True):
        torch.testing.assert_close(a, b_)


@pytest.mark.parametrize("name", ["alstm", "gated_lstm"])
def test_compiled_loops_build(name: str, rnn_loop: str) -> None:
    """Where a C++ compiler exists the compiled loops must build (a silent fallback to the
    ATen loop would hide a broken build behind a slower run)."""
    from serbench.nn.fast_rnn import native

    module = native.load(name)
    if rnn_loop == "aten":
        assert module is None  # SERBENCH_NATIVE_RNN=0 switches them off
    else:
        assert module is not None and hasattr(module, "forward") and hasattr(module, "backward")


def test_failed_build_warns_once_and_keeps_the_aten_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    from serbench.nn.fast_rnn import native

    def broken(name: str):
        raise RuntimeError("Error building extension: line 1\nalstm.cpp:3: error: no compiler")

    monkeypatch.setenv("SERBENCH_NATIVE_RNN", "1")
    monkeypatch.setattr(native, "_loaded", {})
    monkeypatch.setattr(native, "_build", broken)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    args = [torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 2, dtype=torch.float64),
            torch.zeros(8, dtype=torch.float64), torch.zeros(8, dtype=torch.float64), None]
    with pytest.warns(RuntimeWarning, match=r"alstm.cpp:3: error: no compiler.*ATen loop"):
        out = alstm_sequence(x, *args)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once: the second call is silent
        again = alstm_sequence(x, *args)
    torch.testing.assert_close(out, again)
