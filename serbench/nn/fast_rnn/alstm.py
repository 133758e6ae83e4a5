"""The advanced LSTM (Tao and Liu, ICASSP 2018, eqs. 6-12) with a hand-written backward.

The recurrence of ``serbench_a_lstm.cell.run_alstm`` (its docstring has the equations
and the readings of the paper), for 0-indexed steps ``t`` (``s = t + 1``)::

    i, f, g, o = gates(gi_t + h'_{t-1} W_hh^T)      eq. 7
    C_t  = f * C'_{t-1} + i * g                      eq. 6
    at steps with s % combine_every == 0:
        C'_t = sum_k softmax_k(W . C_{s-tau_k}) C_{s-tau_k}     eqs. 8-9
        h_t  = o * tanh(C'_t)                                    eq. 10
        h'_t = sum_k softmax_k(W . h_{s-tau_k}) h_{s-tau_k}     eqs. 11-12
    elsewhere: C'_t = C_t, h_t = o * tanh(C_t), h'_t = h_t

``W`` is None in ``mean`` mode (equal weights over the valid look-backs); ``lstm`` mode
never combines. Look-backs before the first step get no weight. The backward pass walks
the steps in reverse, sending the gradients of a combination to the look-back steps it
read, which the reverse walk reaches later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.autograd.function import once_differentiable

from serbench.nn.fast_rnn import native
from serbench.nn.fast_rnn.autocast import fp32_under_autocast
from serbench.nn.fast_rnn.gates import lstm_gate_order
from serbench.nn.fast_rnn.lstm_steps import ALSTM_CELL, ALSTM_STEP


def _combine_plan(steps: int, time_steps: Sequence[int], combine_every: int, combine: bool
                  ) -> dict[int, tuple[list[int], torch.Tensor | None]]:
    """``{t: (look-back steps, valid mask or None)}`` for the steps that combine."""
    plan: dict[int, tuple[list[int], torch.Tensor | None]] = {}
    if not combine:
        return plan
    for t in range(steps):
        s = t + 1
        if s % combine_every == 0:
            idx = [s - tau for tau in time_steps]
            valid = torch.tensor([i >= 0 for i in idx]) if min(idx) < 0 else None
            plan[t] = ([max(i, 0) for i in idx], valid)
    return plan


def _weights(states: torch.Tensor, W: torch.Tensor | None, valid: torch.Tensor | None) -> torch.Tensor:
    """Softmax weights (B, K) of eqs. 9/12 (``W`` None: equal weights, the mean LSTM)."""
    energy = states @ W if W is not None else states.new_zeros(states.shape[:2])
    if valid is not None:
        energy = energy.masked_fill(~valid.to(states.device), float("-inf"))
    return torch.softmax(energy, dim=-1)


#: Steps per block of the backward pass's precomputed coefficients: small enough for the
#: block's tensors to stay in cache until the loop reads them.
CHUNK = 16


class _ALSTMFunction(torch.autograd.Function):
    """Gates are in the order (o, i, f, g) here, so that one sigmoid covers o, i, f.

    Backward: at a step without combination the gradient is carried by::

        d_h = dL/dout_t + dL/dh'_t;   d_c = dL/dC'_t + d_h * K_t
        dz  = (d_h * A_o, d_c * A_i, d_c * A_f, d_c * A_g);   dL/dC'_{t-1} = d_c * f
        dL/dh'_{t-1} = dz W_hh

    with the coefficients ``K``, ``A`` computed a block of steps at a time.
    """

    @staticmethod
    def forward(ctx: Any, gi: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor,
                weight_hh: torch.Tensor, W: torch.Tensor | None, time_steps: tuple[int, ...],
                combine_every: int, combine: bool) -> torch.Tensor:
        compiled = native.load("alstm") if gi.device.type == "cpu" else None
        ctx.compiled = compiled
        if compiled is not None:  # the same loop in C++ (csrc/alstm.cpp)
            ctx.schedule = (list(time_steps), combine_every, combine)
            out, gates, cells, tanh_c, h_prev, c_prev, w_c, w_h = compiled.forward(
                gi.contiguous(), h0, c0, weight_hh.contiguous(), W, *ctx.schedule)
            ctx.save_for_backward(weight_hh, W, gates, cells, tanh_c, out, h_prev, c_prev,
                                  w_c, w_h)
            return out
        plan = _combine_plan(gi.shape[0], time_steps, combine_every, combine)
        steps, batch, h4 = gi.shape
        hid = h4 // 4
        w_hh_t = weight_hh.t()
        gates = gi.new_empty(steps, batch, h4)  # post-activation o, i, f, g
        cells = gi.new_empty(steps, batch, hid)  # C_t, eq. 6
        tanh_c = gi.new_empty(steps, batch, hid)  # tanh of the cell that made h_t
        out = gi.new_empty(steps, batch, hid)  # h_t, eq. 10
        gi_l, gates_l, cells_l, tanh_l, out_l = (v.unbind(0) for v in (gi, gates, cells, tanh_c, out))
        sig_l, tg_l = gates[:, :, : 3 * hid].unbind(0), gates[:, :, 3 * hid :].unbind(0)
        o_l, i_l, f_l, g_l = (gates[:, :, k * hid : (k + 1) * hid].unbind(0) for k in range(4))
        mixes: dict[int, tuple[torch.Tensor, ...]] = {}  # t: (w^C, w^h, C'_t, h'_t)
        h_comb, c_comb = h0, c0
        fused = ALSTM_STEP.wants_compiled(gi.device, gi.dtype) and ALSTM_CELL.wants_compiled(
            gi.device, gi.dtype)
        step = ALSTM_STEP.for_device(gi.device, gi.dtype) if fused else None
        cell = ALSTM_CELL.for_device(gi.device, gi.dtype) if fused else None
        for t in range(steps):
            torch.addmm(gi_l[t], h_comb, w_hh_t, out=gates_l[t])
            if step is not None and t not in plan:  # one fused launch (CUDA, .step_kernels)
                step(gates_l[t], c_comb, cells_l[t], tanh_l[t], out_l[t])
                c_comb, h_comb = cells_l[t], out_l[t]
                continue
            if cell is not None:
                cell(gates_l[t], c_comb, cells_l[t])
                c = cells_l[t]
            else:
                sig_l[t].sigmoid_()
                tg_l[t].tanh_()
                c = torch.mul(f_l[t], c_comb, out=cells_l[t]).addcmul_(i_l[t], g_l[t])  # eq. 6
            if t in plan:
                idx, valid = plan[t]
                c_stack = cells[idx].transpose(0, 1)  # (B, K, H)
                w_c = _weights(c_stack, W, valid)
                c_comb = torch.bmm(w_c.unsqueeze(1), c_stack).squeeze(1)  # eq. 8
                torch.mul(o_l[t], torch.tanh(c_comb, out=tanh_l[t]), out=out_l[t])  # eq. 10
                h_stack = out[idx].transpose(0, 1)
                w_h = _weights(h_stack, W, valid)
                h_comb = torch.bmm(w_h.unsqueeze(1), h_stack).squeeze(1)  # eq. 11
                mixes[t] = (w_c, w_h, c_comb, h_comb)
            else:
                torch.mul(o_l[t], torch.tanh(c, out=tanh_l[t]), out=out_l[t])
                c_comb, h_comb = c, out_l[t]
        ctx.plan, ctx.mixes = plan, mixes
        ctx.save_for_backward(weight_hh, W, h0, c0, gates, cells, tanh_c, out)
        return out

    @staticmethod
    @once_differentiable  # the hand-written backward is not itself differentiable
    def backward(ctx: Any, d_out: torch.Tensor) -> tuple[Any, ...]:
        if ctx.compiled is not None:
            weight_hh, W, gates, cells, tanh_c, out, h_prev, c_prev, w_c, w_h = ctx.saved_tensors
            d_gi, d_h0, d_c0, d_W = ctx.compiled.backward(
                d_out, weight_hh.contiguous(), W, gates, cells, tanh_c, out, c_prev, w_c, w_h,
                *ctx.schedule)
            hid = weight_hh.shape[1]
            d_whh = (d_gi.view(-1, 4 * hid).t() @ h_prev.view(-1, hid)
                     if ctx.needs_input_grad[3] else None)
            return d_gi, d_h0, d_c0, d_whh, (d_W if W is not None else None), None, None, None
        weight_hh, W, h0, c0, gates, cells, tanh_c, out = ctx.saved_tensors
        steps, batch, h4 = gates.shape
        hid = h4 // 4
        plan, mixes = ctx.plan, ctx.mixes
        # the states each step read: h'_{t-1}, C'_{t-1}
        h_prev = torch.cat([h0.unsqueeze(0), out[:-1]])
        c_prev = torch.cat([c0.unsqueeze(0), cells[:-1]])
        for t, (_, _, c_comb, h_comb) in mixes.items():
            if t + 1 < steps:
                h_prev[t + 1], c_prev[t + 1] = h_comb, c_comb
        coef = gates.new_empty(steps, batch, 4, hid)  # A_o, A_i, A_f, A_g
        k_all = gates.new_empty(steps, batch, hid)  # K = o * (1 - tanh^2)
        d_gates = gates.new_empty(steps, batch, 4, hid)  # dL/d(pre-activations) = dL/d(gi_t)
        coef3_l, dz3_l = coef[:, :, 1:].unbind(0), d_gates[:, :, 1:].unbind(0)
        coef_o_l, dz_o_l = coef[:, :, 0].unbind(0), d_gates[:, :, 0].unbind(0)
        dz_l = d_gates.view(steps, batch, h4).unbind(0)
        k_l, f_l = k_all.unbind(0), gates[:, :, 2 * hid : 3 * hid].unbind(0)
        d_out_l = d_out.unbind(0)
        d_W = torch.zeros_like(W) if W is not None else None
        extra_h: dict[int, torch.Tensor] = {}  # gradients sent back to h_t / C_t by the
        extra_c: dict[int, torch.Tensor] = {}  # combinations that read them
        d_hc = gates.new_zeros(batch, hid)  # dL/dh'_t from step t + 1
        d_cc = gates.new_zeros(batch, hid)  # dL/dC'_t from step t + 1

        def coefficients(lo: int, hi: int) -> None:
            gate = gates[lo:hi].view(hi - lo, batch, 4, hid)
            o, i, f, g = gate.unbind(2)
            tc = tanh_c[lo:hi]
            sd = gate[:, :, :3] - gate[:, :, :3].square()  # sigmoid' of o, i, f
            torch.mul(o, 1 - tc * tc, out=k_all[lo:hi])
            block = coef[lo:hi]
            torch.mul(tc, sd[:, :, 0], out=block[:, :, 0])
            torch.mul(g, sd[:, :, 1], out=block[:, :, 1])
            torch.mul(c_prev[lo:hi], sd[:, :, 2], out=block[:, :, 2])
            torch.mul(i, 1 - g * g, out=block[:, :, 3])

        def mix_backward(t: int, states_all: torch.Tensor, weights: torch.Tensor,
                         grad: torch.Tensor, sink: dict[int, torch.Tensor]) -> None:
            # combined = sum_k w_k s_k, w = softmax(s_k . W): gradients to every s_k and W
            idx, _ = plan[t]
            stack = states_all[idx].transpose(0, 1)  # (B, K, H)
            d_w = torch.bmm(stack, grad.unsqueeze(-1)).squeeze(-1)  # (B, K)
            d_stack = weights.unsqueeze(-1) * grad.unsqueeze(1)
            if d_W is not None:
                d_e = weights * (d_w - (weights * d_w).sum(-1, keepdim=True))
                d_W.add_(torch.einsum("bk,bkh->h", d_e, stack))
                d_stack = d_stack + d_e.unsqueeze(-1) * W
            for k, step in enumerate(idx):
                # invalid look-backs have weight 0 and d_e 0: adding zeros is harmless
                sink[step] = sink[step] + d_stack[:, k] if step in sink else d_stack[:, k]

        for t in range(steps - 1, -1, -1):
            if t % CHUNK == CHUNK - 1 or t == steps - 1:
                coefficients(t - t % CHUNK, t + 1)
            if t in plan:
                w_c, w_h, _, _ = mixes[t]
                mix_backward(t, out, w_h, d_hc, extra_h)  # eqs. 11-12
                d_h = d_out_l[t] + extra_h.pop(t)
                mix_backward(t, cells, w_c, torch.addcmul(d_cc, d_h, k_l[t]), extra_c)  # 8-10
                d_c = extra_c.pop(t)
            else:
                d_h = d_out_l[t] + d_hc
                if t in extra_h:
                    d_h = d_h + extra_h.pop(t)
                d_c = torch.addcmul(d_cc, d_h, k_l[t])
                if t in extra_c:
                    d_c = d_c + extra_c.pop(t)
            torch.mul(coef3_l[t], d_c.unsqueeze(1), out=dz3_l[t])
            torch.mul(coef_o_l[t], d_h, out=dz_o_l[t])
            d_cc = d_c * f_l[t]
            d_hc = torch.mm(dz_l[t], weight_hh)
        flat = d_gates.view(steps * batch, h4)
        d_whh = flat.t() @ h_prev.view(steps * batch, hid) if ctx.needs_input_grad[3] else None
        return d_gates.view(steps, batch, h4), d_hc, d_cc, d_whh, d_W, None, None, None


@fp32_under_autocast
def alstm_sequence(
    x: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor,
    bias_hh: torch.Tensor,
    W: torch.Tensor | None,
    *,
    time_steps: Sequence[int] = (5, 3, 1),
    combine_every: int = 5,
    combine: bool = True,
    state: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """One direction of the A-LSTM over a batch (``run_alstm``'s semantics), fast.

    Args:
        x: (B, L, D); every row is read from step 1 on (padding after its end only
            produces outputs there, as in the reference).
        weight_ih: (4H, D); weight_hh: (4H, H); bias_ih, bias_hh: (4H,), gate order
            (i, f, g, o) as ``nn.LSTM``.
        W: (H,) the shared vector of eqs. 9 and 12, or None for equal weights (mean LSTM).
        time_steps: the look-backs T (1 = the current step).
        combine_every: combine at 1-indexed steps divisible by it.
        combine: False for the conventional LSTM (``lstm`` mode).
        state: initial ``(h'_0, C'_0)``, each (B, H); zeros by default.
    Returns:
        (B, L, H): ``h_s`` of eq. 10 at every step.
    """
    batch, length, _ = x.shape
    hid = weight_hh.shape[1]
    if length == 0:
        return x.new_zeros(batch, 0, hid)
    if state is None:
        h0 = x.new_zeros(batch, hid)
        c0 = x.new_zeros(batch, hid)
    else:
        h0, c0 = state
    order = lstm_gate_order(hid, x.device)  # autograd maps the gradients back through it
    gi = torch.nn.functional.linear(x.transpose(0, 1), weight_ih[order],
                                    (bias_ih + bias_hh)[order])  # (L, B, 4H)
    out = _ALSTMFunction.apply(gi, h0, c0, weight_hh[order], W, tuple(int(t) for t in time_steps),
                               int(combine_every), bool(combine))
    return out.transpose(0, 1)
