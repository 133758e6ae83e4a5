"""The GCA-LSTM's second LSTM, whose cell update is gated by informativeness (Li et al.,
IJCAI 2019, eq. 11), with a hand-written backward through time.

One step, gate order (i, f, g, o) as ``nn.LSTM``, ``r_t`` in [0, 1] per row::

    i, f, g, o = gates(gi_t + h_{t-1} W_hh^T)
    c_t = f * c_{t-1} * (1 - r_t) + i * g * r_t        eq. 11
    h_t = o * tanh(c_t)

Rows are frozen past their length (state kept, output zero), as in
``serbench_rlc.gca.GCALSTM.attend``; the gradient reaches ``r`` as well as the weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.autograd.function import once_differentiable

from serbench.nn.fast_rnn import native
from serbench.nn.fast_rnn.autocast import fp32_under_autocast
from serbench.nn.fast_rnn.gates import lstm_gate_order
from serbench.nn.fast_rnn.lstm_steps import GATED_STEP

#: Steps per block of the backward pass's precomputed coefficients: small enough for the
#: block's tensors to stay in cache until the loop reads them.
CHUNK = 16


class _GatedLSTMFunction(torch.autograd.Function):
    """Gates are in the order (o, i, f, g) here, so that one sigmoid covers o, i, f.

    Backward, per step (the coefficients ``K``, ``A``, ``F`` computed a block at a time)::

        d_c = dL/dc_t + d_h * K_t,  K = o (1 - tanh^2 c_t)
        dz  = (d_h * A_o, d_c * A_i, d_c * A_f, d_c * A_g)
        dL/dc_{t-1} = d_c * f (1 - r_t);   dL/dh_{t-1} = dz W_hh
        dL/dr_t = sum_H d_c * (i g - f c_{t-1})
    """

    @staticmethod
    def forward(ctx: Any, gi: torch.Tensor, r: torch.Tensor, lengths: torch.Tensor,
                h0: torch.Tensor, c0: torch.Tensor, weight_hh: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ctx.set_materialize_grads(False)  # GCA reads only the last state: skip zero grads
        compiled = native.load("gated_lstm") if gi.device.type == "cpu" else None
        ctx.compiled = compiled
        if compiled is not None:  # the same loop in C++ (csrc/gated_lstm.cpp)
            r_tm = r.t().contiguous()
            out, h_last, c_last, gates, hs, cs, tanh_c = compiled.forward(
                gi.contiguous(), r_tm, lengths, h0, c0, weight_hh.contiguous())
            ctx.save_for_backward(weight_hh, gates, hs, cs, tanh_c, r_tm, lengths)
            return out, h_last, c_last
        steps, batch, h4 = gi.shape
        hid = h4 // 4
        r_tm = r.t().unsqueeze(-1).contiguous()  # (T, B, 1)
        valid = (torch.arange(steps, device=gi.device).unsqueeze(1)
                 < lengths.to(gi.device).unsqueeze(0)).unsqueeze(-1)  # (T, B, 1)
        full_until = int(lengths.min())
        w_hh_t = weight_hh.t()
        gates = gi.new_empty(steps, batch, h4)  # post-activation o, i, f, g
        hs = gi.new_empty(steps + 1, batch, hid)  # states h_0 .. h_T (frozen past lengths)
        cs = gi.new_empty(steps + 1, batch, hid)
        tanh_c = gi.new_empty(steps, batch, hid)  # tanh(c_t) of the step's new cell
        hs[0], cs[0] = h0, c0
        gi_l, gates_l, tanh_l, r_l = gi.unbind(0), gates.unbind(0), tanh_c.unbind(0), r_tm.unbind(0)
        hs_l, cs_l = hs.unbind(0), cs.unbind(0)
        sig_l, tg_l = gates[:, :, : 3 * hid].unbind(0), gates[:, :, 3 * hid :].unbind(0)
        o_l, i_l, f_l, g_l = (gates[:, :, k * hid : (k + 1) * hid].unbind(0) for k in range(4))
        fused = GATED_STEP.wants_compiled(gi.device, gi.dtype)
        step = GATED_STEP.for_device(gi.device, gi.dtype) if fused else None
        for t in range(steps):
            torch.addmm(gi_l[t], hs_l[t], w_hh_t, out=gates_l[t])
            if step is not None:  # one fused launch (CUDA, .step_kernels)
                step(gates_l[t], cs_l[t], hs_l[t], r_l[t], valid[t], tanh_l[t], cs_l[t + 1],
                     hs_l[t + 1])
                continue
            sig_l[t].sigmoid_()
            tg_l[t].tanh_()
            # eq. 11: c = (1 - r) * (f * c_prev) + r * (i * g)
            c_new = torch.lerp(f_l[t] * cs_l[t], i_l[t] * g_l[t], r_l[t])
            h_new = o_l[t] * torch.tanh(c_new, out=tanh_l[t])
            if t < full_until:
                cs_l[t + 1].copy_(c_new)
                hs_l[t + 1].copy_(h_new)
            else:
                keep = valid[t]
                torch.where(keep, c_new, cs_l[t], out=cs_l[t + 1])
                torch.where(keep, h_new, hs_l[t], out=hs_l[t + 1])
        out = hs[1:] * valid if full_until < steps else hs[1:].clone()
        ctx.full_until = full_until
        ctx.save_for_backward(weight_hh, gates, hs, cs, tanh_c, r_tm, valid)
        return out, hs[steps].clone(), cs[steps].clone()

    @staticmethod
    @once_differentiable  # the hand-written backward is not itself differentiable
    def backward(ctx: Any, d_out: torch.Tensor | None, d_h_last: torch.Tensor | None,
                 d_c_last: torch.Tensor | None) -> tuple[Any, ...]:
        if ctx.compiled is not None:
            weight_hh, gates, hs, cs, tanh_c, r_tm, lengths = ctx.saved_tensors
            d_gi, d_r, dh, dc = ctx.compiled.backward(
                d_out, d_h_last, d_c_last, weight_hh.contiguous(), r_tm, lengths, gates, cs, tanh_c)
            steps, batch, h4 = gates.shape
            d_whh = (d_gi.view(-1, h4).t() @ hs[:steps].reshape(steps * batch, h4 // 4)
                     if ctx.needs_input_grad[5] else None)
            return d_gi, d_r.t(), None, dh, dc, d_whh
        weight_hh, gates, hs, cs, tanh_c, r_tm, valid = ctx.saved_tensors
        steps, batch, h4 = gates.shape
        hid = h4 // 4
        coef = gates.new_empty(steps, batch, 4, hid)  # A_o, A_i, A_f, A_g
        k_all = gates.new_empty(steps, batch, hid)
        f_all = gates.new_empty(steps, batch, hid)  # f * (1 - r)
        d_gates = gates.new_empty(steps, batch, 4, hid)
        d_cells = gates.new_empty(steps, batch, hid)  # d_c of every step, for dL/dr
        d_r = gates.new_empty(steps, batch, 1)
        coef3_l, dz3_l = coef[:, :, 1:].unbind(0), d_gates[:, :, 1:].unbind(0)
        coef_o_l, dz_o_l = coef[:, :, 0].unbind(0), d_gates[:, :, 0].unbind(0)
        dz_l = d_gates.view(steps, batch, h4).unbind(0)
        k_l, f_l, dc_l = k_all.unbind(0), f_all.unbind(0), d_cells.unbind(0)
        d_out_l = d_out.unbind(0) if d_out is not None else None

        def coefficients(lo: int, hi: int) -> None:
            gate = gates[lo:hi].view(hi - lo, batch, 4, hid)
            o, i, f, g = gate.unbind(2)
            tc, r = tanh_c[lo:hi], r_tm[lo:hi]
            sd = gate[:, :, :3] - gate[:, :, :3].square()  # sigmoid' of o, i, f
            torch.mul(o, 1 - tc * tc, out=k_all[lo:hi])
            torch.mul(f, 1 - r, out=f_all[lo:hi])
            block = coef[lo:hi]
            torch.mul(tc, sd[:, :, 0], out=block[:, :, 0])
            torch.mul(g * r, sd[:, :, 1], out=block[:, :, 1])
            torch.mul(cs[lo:hi] * (1 - r), sd[:, :, 2], out=block[:, :, 2])
            torch.mul(i * r, 1 - g * g, out=block[:, :, 3])

        def finish(lo: int, hi: int) -> None:  # dL/dr once d_c is known for the block
            gate = gates[lo:hi].view(hi - lo, batch, 4, hid)
            _, i, f, g = gate.unbind(2)
            torch.sum(d_cells[lo:hi] * (i * g - f * cs[lo:hi]), dim=2, keepdim=True,
                      out=d_r[lo:hi])

        zeros = gates.new_zeros(batch, hid)
        dh = d_h_last if d_h_last is not None else zeros
        dc = d_c_last if d_c_last is not None else zeros
        for t in range(steps - 1, -1, -1):
            if t % CHUNK == CHUNK - 1 or t == steps - 1:
                coefficients(t - t % CHUNK, t + 1)
            g_h = dh + d_out_l[t] if d_out_l is not None else dh  # dL/dh_t of this step
            g_c = dc
            carry_h = carry_c = None
            if t >= ctx.full_until:  # a frozen row passes its gradients to the previous state
                keep = valid[t]
                carry_h, carry_c = torch.where(keep, 0.0, dh), torch.where(keep, 0.0, dc)
                g_h, g_c = torch.where(keep, g_h, 0.0), torch.where(keep, dc, 0.0)
            d_c = torch.addcmul(g_c, g_h, k_l[t], out=dc_l[t])
            torch.mul(coef3_l[t], d_c.unsqueeze(1), out=dz3_l[t])
            torch.mul(coef_o_l[t], g_h, out=dz_o_l[t])
            dc = d_c * f_l[t]
            dh = torch.mm(dz_l[t], weight_hh)
            if carry_h is not None:
                dh, dc = dh + carry_h, dc + carry_c
            if t % CHUNK == 0:
                finish(t, min(t + CHUNK, steps))
        flat = d_gates.view(steps * batch, h4)
        d_whh = flat.t() @ hs[:steps].reshape(steps * batch, hid) if ctx.needs_input_grad[5] else None
        return d_gates.view(steps, batch, h4), d_r.squeeze(-1).t(), None, dh, dc, d_whh


@fp32_under_autocast
def gated_lstm_sequence(
    x: torch.Tensor,
    r: torch.Tensor,
    lengths: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The informativeness-gated LSTM (eq. 11) over padded sequences, fast.

    Args:
        x: (B, N, D) inputs (``h_n`` of the first LSTM).
        r: (B, N) informativeness ``r_n`` in [0, 1] (gradients flow into it).
        lengths: (B,) long, >= 1; rows are frozen after their length.
        weight_ih: (4H, D) the W matrices; weight_hh: (4H, H) the U matrices;
            bias: (4H,); gate order (i, f, g, o).
        state: initial ``(h_0, c_0)``, each (B, H); zeros by default.
    Returns:
        outputs: (B, N, H) ``h_n``, zero at padded steps.
        h_last, c_last: (B, H) each row's state after its last valid step.
    """
    batch = x.shape[0]
    hid = weight_hh.shape[1]
    if state is None:
        h0 = x.new_zeros(batch, hid)
        c0 = x.new_zeros(batch, hid)
    else:
        h0, c0 = state
    order = lstm_gate_order(hid, x.device)  # autograd maps the gradients back through it
    gi = torch.nn.functional.linear(x.transpose(0, 1), weight_ih[order], bias[order])  # (N, B, 4H)
    out, h_last, c_last = _GatedLSTMFunction.apply(gi, r, lengths, h0, c0, weight_hh[order])
    return out.transpose(0, 1), h_last, c_last
