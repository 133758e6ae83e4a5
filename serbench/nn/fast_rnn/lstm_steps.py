"""Fused forward steps of the LSTM-type loops (:mod:`.alstm`, :mod:`.gated_lstm`) for CUDA.

Each function is the element-wise part of one step after the recurrent GEMM, written so
that :class:`~serbench.nn.fast_rnn.step_kernels.StepKernel` can compile it into one
kernel; it reads the GEMM's pre-activations from ``gates`` (B, 4H), gate order
(o, i, f, g) as in those loops, and writes the post-activations back into it and its
other results into the loop's buffers. Eagerly they compute exactly the loops' ATen
steps (the tests compare them).
"""

from __future__ import annotations

import torch

from serbench.nn.fast_rnn.step_kernels import StepKernel


def _activate(gates: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(o, i, f, g) after sigmoid / tanh, and the activated (B, 4H) block."""
    hid = gates.shape[-1] // 4
    sig = torch.sigmoid(gates[:, : 3 * hid])
    g = torch.tanh(gates[:, 3 * hid :])
    return sig[:, :hid], sig[:, hid : 2 * hid], sig[:, 2 * hid :], g, torch.cat([sig, g], 1)


def gated_step(gates: torch.Tensor, c_prev: torch.Tensor, h_prev: torch.Tensor,
               r: torch.Tensor, valid: torch.Tensor, tanh_out: torch.Tensor,
               c_out: torch.Tensor, h_out: torch.Tensor) -> None:
    """The GCA-LSTM's gated step (Li et al. 2019, eq. 11): ``c = (1 - r) f c_prev + r i g``.

    Shapes: ``gates`` (B, 4H) in/out; ``c_prev``, ``h_prev``, outputs (B, H); ``r`` and
    ``valid`` (B, 1) (a row past its length keeps its state).
    """
    o, i, f, g, act = _activate(gates)
    c_new = torch.lerp(f * c_prev, i * g, r)
    tc = torch.tanh(c_new)
    gates.copy_(act)
    tanh_out.copy_(tc)
    c_out.copy_(torch.where(valid, c_new, c_prev))
    h_out.copy_(torch.where(valid, o * tc, h_prev))


def alstm_cell(gates: torch.Tensor, c_prev: torch.Tensor, cell_out: torch.Tensor) -> None:
    """The A-LSTM's cell update (Tao and Liu 2018, eq. 6) at a step that combines next:
    ``C_t = f C'_{t-1} + i g``. Shapes: ``gates`` (B, 4H) in/out, the rest (B, H)."""
    _, i, f, g, act = _activate(gates)
    gates.copy_(act)
    cell_out.copy_(f * c_prev + i * g)


def alstm_step(gates: torch.Tensor, c_prev: torch.Tensor, cell_out: torch.Tensor,
               tanh_out: torch.Tensor, h_out: torch.Tensor) -> None:
    """A step without combination: :func:`alstm_cell`, then ``h = o tanh(C)`` (eq. 10
    with ``C' = C``). Shapes as :func:`alstm_cell`."""
    o, i, f, g, act = _activate(gates)
    c = f * c_prev + i * g
    tc = torch.tanh(c)
    gates.copy_(act)
    cell_out.copy_(c)
    tanh_out.copy_(tc)
    h_out.copy_(o * tc)


GATED_STEP = StepKernel("gated LSTM step", gated_step)
ALSTM_CELL = StepKernel("A-LSTM cell step", alstm_cell)
ALSTM_STEP = StepKernel("A-LSTM step", alstm_step)
