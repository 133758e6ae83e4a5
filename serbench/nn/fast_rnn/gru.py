"""A GRU recurrence with a hand-written backward through time and any element-wise
candidate activation (AR-GRU: tanh, relu, arelu, leaky_relu, selu, mish).

The recurrence, in PyTorch's gate order (r, z, n), given ``gi = x W_ih^T + b_ih``::

    gh  = h_{t-1} W_hh^T + b_hh
    r, z = sigmoid(gi_rz + gh_rz)
    a_t = gi_n + r * gh_n;   n_t = act(a_t)
    h_t = n_t + z * (h_{t-1} - n_t)

:func:`gru_recurrence` has the signature and semantics of
``serbench_ar_gru.recurrence.reference_recurrence`` (rows frozen and outputs zero past
their length). The activation is called once per step in the forward loop; its
derivative and the gradients of its parameters (AReLU's ``alpha`` and ``beta``) are
taken once, vectorised over every step, by autograd on the saved pre-activations: that
is exact for any element-wise activation, which :func:`supports` checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from serbench.nn.fast_rnn.autocast import fp32_under_autocast
from serbench.nn.fast_rnn.step_kernels import StepKernel

#: Activations known to be element-wise (their Jacobian is diagonal).
ELEMENTWISE = frozenset({"tanh", "relu", "arelu", "leaky_relu", "selu", "mish"})


def supports(activation: nn.Module, device: torch.device) -> bool:
    """Whether :func:`gru_recurrence` handles ``activation`` (any device).

    Element-wise activations only: a registered built-in name (``activation_name``, set
    by ``serbench_ar_gru.activations.make_activation``), or a module that declares
    ``elementwise = True``.
    """
    if getattr(activation, "inplace", False):  # would overwrite the saved pre-activations
        return False
    name = getattr(activation, "activation_name", None)
    return name in ELEMENTWISE or bool(getattr(activation, "elementwise", False))


def _valid_mask(lengths: torch.Tensor, steps: int, device: torch.device) -> torch.Tensor:
    """(T, B, 1) bool, True where ``t < lengths[b]``."""
    t = torch.arange(steps, device=device).unsqueeze(1)
    return (t < lengths.to(device).unsqueeze(0)).unsqueeze(-1)


def _value_fn(activation: nn.Module) -> Any:
    """A cheaper forward for a few activations (values only: gradients never use it)."""
    name = getattr(activation, "activation_name", None)
    if name == "tanh":
        return torch.tanh
    if name == "relu":
        return torch.relu
    if name == "arelu" and hasattr(activation, "clamped_alpha"):
        # eq. 1 as a leaky ReLU scaled by 1 + sigmoid(beta): two ops per step, not six
        scale = float(activation.positive_scale())
        slope = float(activation.clamped_alpha()) / scale
        return lambda a: nn.functional.leaky_relu(a, slope).mul_(scale)
    return activation


def _step_tanh(gi_rz: torch.Tensor, gi_n: torch.Tensor, gh_rz: torch.Tensor,
               gh_n: torch.Tensor, h: torch.Tensor, valid: torch.Tensor, rz_out: torch.Tensor,
               a_out: torch.Tensor, h_out: torch.Tensor) -> None:
    """One forward step's element-wise part, tanh candidate; shapes (B, 2H) / (B, H),
    ``valid`` (B, 1) bool. Writes ``rz_out``, ``a_out`` (pre-activation) and ``h_out``."""
    hid = h.shape[-1]
    rz = torch.sigmoid(gi_rz + gh_rz)
    a = gi_n + rz[:, :hid] * gh_n
    n = torch.tanh(a)
    rz_out.copy_(rz)
    a_out.copy_(a)
    h_out.copy_(torch.where(valid, torch.lerp(n, h, rz[:, hid:]), h))


def _step_piecewise(gi_rz: torch.Tensor, gi_n: torch.Tensor, gh_rz: torch.Tensor,
                    gh_n: torch.Tensor, h: torch.Tensor, valid: torch.Tensor,
                    neg: torch.Tensor, pos: torch.Tensor, rz_out: torch.Tensor,
                    a_out: torch.Tensor, h_out: torch.Tensor) -> None:
    """:func:`_step_tanh` with ``act(a) = a * (neg if a < 0 else pos)``: ReLU (0, 1) and
    AReLU (clamped alpha, 1 + sigmoid(beta)), the slopes 0-d tensors so that a training
    step that changes them needs no recompilation."""
    hid = h.shape[-1]
    rz = torch.sigmoid(gi_rz + gh_rz)
    a = gi_n + rz[:, :hid] * gh_n
    n = a * torch.where(a < 0, neg, pos)
    rz_out.copy_(rz)
    a_out.copy_(a)
    h_out.copy_(torch.where(valid, torch.lerp(n, h, rz[:, hid:]), h))


STEP_TANH = StepKernel("GRU step (tanh)", _step_tanh)
STEP_PIECEWISE = StepKernel("GRU step (ReLU/AReLU)", _step_piecewise)


def _fused_step(activation: nn.Module, device: torch.device, dtype: torch.dtype
                ) -> tuple[Callable[..., None], tuple[torch.Tensor, ...]] | None:
    """(step, its slope arguments) where a fused step applies (:mod:`.step_kernels`
    selects it: on CUDA by default), else None (the ATen loop runs)."""
    name = getattr(activation, "activation_name", None)
    if name == "tanh" and STEP_TANH.wants_compiled(device, dtype):
        return STEP_TANH.for_device(device, dtype), ()
    if name not in ("relu", "arelu") or not STEP_PIECEWISE.wants_compiled(device, dtype):
        return None
    if name == "relu":
        neg, pos = torch.zeros((), dtype=dtype, device=device), torch.ones((), dtype=dtype,
                                                                          device=device)
    elif hasattr(activation, "clamped_alpha"):
        neg = activation.clamped_alpha().detach().to(device, dtype)
        pos = activation.positive_scale().detach().to(device, dtype)
    else:
        return None
    return STEP_PIECEWISE.for_device(device, dtype), (neg, pos)


class _Derivative:
    """``act(a)``, ``act'(a)`` and the activation parameters' gradients, a block of steps
    at a time (element-wise activations).

    Closed forms for tanh, relu and AReLU (matching autograd's conventions at 0); any other
    activation goes through autograd on the whole (T, B, H) tensor once, which is exact
    for any element-wise function.
    """

    def __init__(self, activation: nn.Module, a_all: torch.Tensor,
                 params: tuple[torch.Tensor, ...]):
        self.name = getattr(activation, "activation_name", None)
        self.params = params
        if self.name == "arelu" and hasattr(activation, "clamped_alpha") and len(params) == 2:
            with torch.enable_grad():  # the scalars' own graphs carry clamp and sigmoid
                self.alpha_c = activation.clamped_alpha()
                self.scale = activation.positive_scale()
            self.sums = [a_all.new_zeros(()), a_all.new_zeros(())]  # sum dn*a over a<0, all
        elif self.name not in ("tanh", "relu"):
            self.name = None
            with torch.enable_grad():
                a_req = a_all.detach().requires_grad_(True)
                self.n_graph = activation(a_req)
                (self.d_act,) = torch.autograd.grad(
                    self.n_graph, a_req, torch.ones_like(self.n_graph), retain_graph=bool(params))
            self.n_all = self.n_graph.detach()
            self.d_n = a_all.new_zeros(a_all.shape) if params else None

    def local(self, a: torch.Tensor, lo: int, hi: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(act(a), act'(a))`` for the block ``a`` = steps ``lo:hi``."""
        if self.name == "tanh":
            n = torch.tanh(a)
            return n, 1 - n * n
        if self.name == "relu":
            return torch.relu(a), (a > 0).to(a.dtype)
        if self.name == "arelu":
            slope = torch.where(a < 0, self.alpha_c.detach(), self.scale.detach())
            return a * slope, slope
        return self.n_all[lo:hi], self.d_act[lo:hi]

    def accumulate(self, a: torch.Tensor, d_n: torch.Tensor, lo: int, hi: int) -> None:
        """Add the block's ``dL/dn`` to the parameters' gradients."""
        if self.name == "arelu":
            contrib = d_n * a
            self.sums[0] += contrib.masked_fill(a >= 0, 0).sum()
            self.sums[1] += contrib.sum()
        elif self.name is None and self.d_n is not None:
            self.d_n[lo:hi] = d_n

    def param_grads(self) -> tuple[torch.Tensor | None, ...]:
        if not self.params or self.name in ("tanh", "relu"):
            return ()
        if self.name == "arelu":
            s_neg, s_all = self.sums
            with torch.enable_grad():
                total = self.alpha_c * s_neg + self.scale * (s_all - s_neg)
            return torch.autograd.grad(total, self.params, allow_unused=True)
        return torch.autograd.grad(self.n_graph, self.params, self.d_n, allow_unused=True)


#: Steps per block of the backward pass's precomputed coefficients: small enough for the
#: block's tensors to stay in cache until the loop reads them.
CHUNK = 16


class _GRUFunction(torch.autograd.Function):
    """Forward: a minimal loop. Backward: the per-step coefficients of the gradient are
    computed a block of steps at a time, and the loop only carries ``dh``::

        g_t = dh_t + dL/dout_t;  dL/dgh_t = g_t * Q_t;  dh_{t-1} = g_t * z_t + dL/dgh_t W_hh
    """

    @staticmethod
    def forward(ctx: Any, gi: torch.Tensor, lengths: torch.Tensor, h0: torch.Tensor,
                weight_hh: torch.Tensor, bias_hh: torch.Tensor, activation: nn.Module,
                *act_params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gi = gi.transpose(0, 1).contiguous()  # (T, B, 3H): each step one contiguous block
        steps, batch, h3 = gi.shape
        hid = h3 // 3
        valid = _valid_mask(lengths, steps, gi.device)
        full_until = int(lengths.min())  # steps where no row is padded need no masking
        w_hh_t = weight_hh.t()
        act = _value_fn(activation)
        gh_all = gi.new_empty(steps, batch, h3)
        rz_all = gi.new_empty(steps, batch, 2 * hid)
        a_all = gi.new_empty(steps, batch, hid)
        states = gi.new_empty(steps + 1, batch, hid)  # h_0 .. h_T (frozen past lengths)
        states[0] = h0
        # per-step views made once: indexing a list is far cheaper than slicing a tensor
        gh_l, rz_l, a_l, s_l = gh_all.unbind(0), rz_all.unbind(0), a_all.unbind(0), states.unbind(0)
        ghrz_l, ghn_l = gh_all[:, :, : 2 * hid].unbind(0), gh_all[:, :, 2 * hid :].unbind(0)
        girz_l, gin_l = gi[:, :, : 2 * hid].unbind(0), gi[:, :, 2 * hid :].unbind(0)
        r_l, z_l = rz_all[:, :, :hid].unbind(0), rz_all[:, :, hid:].unbind(0)
        fused = _fused_step(activation, gi.device, gi.dtype)
        if fused is not None:  # the GEMM, then one fused launch (.step_kernels)
            step, slopes = fused
            for t in range(steps):
                torch.addmm(bias_hh, s_l[t], w_hh_t, out=gh_l[t])
                step(girz_l[t], gin_l[t], ghrz_l[t], ghn_l[t], s_l[t], valid[t], *slopes,
                     rz_l[t], a_l[t], s_l[t + 1])
        else:
            for t in range(steps):
                h = s_l[t]
                torch.addmm(bias_hh, h, w_hh_t, out=gh_l[t])
                torch.add(girz_l[t], ghrz_l[t], out=rz_l[t]).sigmoid_()
                n = act(torch.addcmul(gin_l[t], r_l[t], ghn_l[t], out=a_l[t]))
                if t < full_until:
                    torch.lerp(n, h, z_l[t], out=s_l[t + 1])  # n + z * (h - n)
                else:
                    torch.where(valid[t], torch.lerp(n, h, z_l[t]), h, out=s_l[t + 1])
        out = states[1:] * valid if full_until < steps else states[1:].clone()
        ctx.activation = activation
        ctx.full_until = full_until
        ctx.save_for_backward(weight_hh, gh_all, rz_all, a_all, states, valid, *act_params)
        return out, states[steps].clone()

    @staticmethod
    @once_differentiable  # the hand-written backward is not itself differentiable
    def backward(ctx: Any, d_out: torch.Tensor, d_last: torch.Tensor) -> tuple[Any, ...]:
        weight_hh, gh_all, rz_all, a_all, states, valid, *act_params = ctx.saved_tensors
        steps, batch, hid = a_all.shape
        deriv = _Derivative(ctx.activation, a_all, tuple(act_params))
        want_params = bool(act_params) and any(ctx.needs_input_grad[6:])
        p_all = a_all.new_empty(steps, batch, hid)  # dL/da = g * p
        q = a_all.new_empty(steps, batch, 3, hid)  # dL/dgh = g * q, blocks (r, z, n)
        d_gh = a_all.new_empty(steps, batch, 3, hid)
        d_a = a_all.new_empty(steps, batch, hid)  # the n block of dL/dgi
        g_all = a_all.new_empty(steps, batch, hid)
        q_l, dgh_l, g_l = q.unbind(0), d_gh.unbind(0), g_all.unbind(0)
        z_l = rz_all[:, :, hid:].unbind(0)
        dgh_flat_l = d_gh.view(steps, batch, 3 * hid).unbind(0)
        d_out_l = d_out.unbind(0)

        def coefficients(lo: int, hi: int) -> None:
            r, z = rz_all[lo:hi, :, :hid], rz_all[lo:hi, :, hid:]
            n, d_act = deriv.local(a_all[lo:hi], lo, hi)
            p = torch.mul(1 - z, d_act, out=p_all[lo:hi])
            block = q[lo:hi]
            torch.mul(p * gh_all[lo:hi, :, 2 * hid :], r - r * r, out=block[:, :, 0])
            torch.mul(states[lo:hi] - n, z - z * z, out=block[:, :, 1])
            torch.mul(p, r, out=block[:, :, 2])

        def finish(lo: int, hi: int) -> None:  # once g is known for the block
            g = g_all[lo:hi]
            torch.mul(g, p_all[lo:hi], out=d_a[lo:hi])
            if want_params:
                deriv.accumulate(a_all[lo:hi], g - g * rz_all[lo:hi, :, hid:], lo, hi)

        dh = d_last
        for t in range(steps - 1, -1, -1):
            if t % CHUNK == CHUNK - 1 or t == steps - 1:
                coefficients(t - t % CHUNK, t + 1)
            if t < ctx.full_until:
                g = torch.add(dh, d_out_l[t], out=g_l[t])
                carry = None
            else:  # a frozen row passes its gradient straight to the previous state
                keep = valid[t]
                g = g_l[t]
                torch.where(keep, dh + d_out_l[t], torch.zeros_like(dh), out=g)
                carry = torch.where(keep, 0.0, dh)
            torch.mul(q_l[t], g.unsqueeze(1), out=dgh_l[t])
            dh = torch.addmm(g * z_l[t], dgh_flat_l[t], weight_hh)
            if carry is not None:
                dh = dh + carry
            if t % CHUNK == 0:
                finish(t, min(t + CHUNK, steps))
        d_gh = d_gh.view(steps, batch, 3 * hid)
        d_gi = None
        if ctx.needs_input_grad[0]:
            d_gi = torch.cat([d_gh[:, :, : 2 * hid], d_a], dim=2).transpose(0, 1)
        flat = d_gh.view(steps * batch, 3 * hid)
        d_whh = flat.t() @ states[:steps].reshape(steps * batch, hid) if ctx.needs_input_grad[3] else None
        d_bhh = flat.sum(0) if ctx.needs_input_grad[4] else None
        d_params = tuple(deriv.param_grads()) if want_params else (None,) * len(act_params)
        return (d_gi, None, dh, d_whh, d_bhh, None, *d_params)


@fp32_under_autocast
def gru_recurrence(
    gi: torch.Tensor,
    lengths: torch.Tensor,
    h0: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_hh: torch.Tensor,
    activation: nn.Module,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The GRU recurrence with a hand-written backward (``reference_recurrence``'s contract).

    Args:
        gi: (B, T, 3H) input projections ``x_t W_ih^T + b_ih`` in gate order (r, z, n).
        lengths: (B,) long, valid steps per row (>= 1).
        h0: (B, H) initial state.
        weight_hh: (3H, H) recurrent weights ``[W_hr; W_hz; W_hn]``.
        bias_hh: (3H,) recurrent biases.
        activation: an element-wise candidate activation (see :func:`supports`); its
            parameters receive gradients.
    Returns:
        outputs: (B, T, H), zero at padded steps.
        h_last: (B, H), each row's state after its last valid step.
    """
    params = tuple(activation.parameters())
    out, h_last = _GRUFunction.apply(gi, lengths, h0, weight_hh, bias_hh, activation, *params)
    return out.transpose(0, 1), h_last
