"""A reference RLC forward pass written from the paper (Li et al., IJCAI 2019), for tests.

Every function computes one unpadded row with plain tensor operations and the weights of
a built module, independently of the module's own code paths: convolutions with explicit
stride, dilation and "same" zero padding, batch normalisation from its running
statistics (eval mode), the residual skips, multi-head self-attention head by head
(``scaled_dot_product_attention``), LSTMs gate by gate, layer normalisation by its
formula and GCA-LSTM's eqs. 9-12.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from serbench.nn.resconv import ConvFrontEnd, MaskedBatchNorm1d

from serbench_rlc.gca import GCALSTM


def lstm_by_hand(x: torch.Tensor, lstm: torch.nn.LSTM) -> torch.Tensor:
    """Eqs. 4-8 gate by gate (order i, f, g, o), zero initial state, every layer of a
    unidirectional LSTM; x (N, D) -> outputs of the last layer (N, H)."""
    for layer in range(lstm.num_layers):
        w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
        bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        h = c = x.new_zeros(lstm.hidden_size)
        out = []
        for x_t in x:
            i, f, g, o = (w_ih @ x_t + w_hh @ h + bias).chunk(4)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            out.append(h)
        x = torch.stack(out)
    return x


def layer_norm_by_hand(h: torch.Tensor, norm: torch.nn.LayerNorm) -> torch.Tensor:
    """(h - mean) / sqrt(var + eps) * gain + bias over the last axis."""
    mean = h.mean(-1, keepdim=True)
    var = ((h - mean) ** 2).mean(-1, keepdim=True)
    return (h - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def gca_by_hand(m: torch.Tensor, gca: GCALSTM) -> tuple[torch.Tensor, torch.Tensor]:
    """GCA-LSTM (Sec. 3.3) for one row m (N, D): F^(I) (H,) and the normalised scores (I, N)."""
    hid = gca.hidden_size
    h = lstm_by_hand(m, gca.first)
    if gca.norm is not None:
        h = layer_norm_by_hand(h, gca.norm)
    memory = h[-1]  # F^(0) = h_N
    w_e2_h, w_e2_f = gca.W_e2.weight[:, :hid], gca.W_e2.weight[:, hid:]  # [h_n; F]
    w_f_att, w_f_mem = gca.W_F.weight[:, :hid], gca.W_F.weight[:, hid:]  # [F_att; F]
    scores = []
    for _ in range(gca.iterations):
        e = torch.stack([gca.W_e1.weight[0] @ torch.tanh(w_e2_h @ h_n + w_e2_f @ memory)
                         for h_n in h])  # eq. 9
        r = torch.exp(e) / torch.exp(e).sum()  # eq. 10
        r = (r - r.min()) / (r.max() - r.min())  # min-max to [0, 1]
        scores.append(r)
        state_h = state_c = m.new_zeros(hid)
        for h_n, r_n in zip(h, r, strict=True):
            z = gca.weight_ih @ h_n + gca.weight_hh @ state_h + gca.bias
            i, f, g, o = z.chunk(4)
            state_c = (torch.sigmoid(f) * state_c * (1 - r_n)
                       + torch.sigmoid(i) * torch.tanh(g) * r_n)  # eq. 11
            state_h = torch.sigmoid(o) * torch.tanh(state_c)
        memory = torch.relu(w_f_att @ state_h + w_f_mem @ memory)  # eq. 12, F_att = h_N
    return memory, torch.stack(scores)


def _conv(x: torch.Tensor, conv: torch.nn.Conv1d, stride: int, dilation: int) -> torch.Tensor:
    """x (T, C_in) -> (ceil(T / stride), C_out), "same" zero padding."""
    span = (conv.weight.shape[-1] - 1) * dilation
    padded = F.pad(x.T.unsqueeze(0), (span // 2, span - span // 2))
    return F.conv1d(padded, conv.weight, conv.bias, stride=stride, dilation=dilation)[0].T


def _norm(x: torch.Tensor, bn: MaskedBatchNorm1d) -> torch.Tensor:
    return (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias


def _self_attention(x: torch.Tensor, att: torch.nn.Module) -> torch.Tensor:
    """Sec. 3.2: Concat(head_1..head_r) W^O, head_i = softmax(Q_i K_i^T / sqrt(d)) V_i."""
    dim, r = x.shape[-1], att.heads
    d = dim // r
    q, k, v = (x @ w.T + b for w, b in zip(att.qkv.weight.split(dim), att.qkv.bias.split(dim),
                                          strict=True))
    heads = [F.scaled_dot_product_attention(*(t[None, :, i * d:(i + 1) * d] for t in (q, k, v)))[0]
             for i in range(r)]
    return torch.cat(heads, -1) @ att.out.weight.T + att.out.bias


def frontend_by_hand(x: torch.Tensor, frontend: ConvFrontEnd, hp: Mapping[str, Any]
                     ) -> torch.Tensor:
    """The residual convolutional front end (Sec. 3.1-3.2) as ``hp`` describes it, for one
    row x (T, D) -> (T', C_last). Structure (strides, dilations, units, residual, which
    groups attend) comes from ``hp``; only the weights are read from ``frontend``."""
    attending = {int(g) for g in hp["attention_groups"]} if hp["self_attention"] else set()
    dilations = hp.get("dilations", [1] * len(hp["channels"]))
    for g, group in enumerate(frontend.groups):
        stride, dilation = int(hp["strides"][g]), int(dilations[g])
        x = _conv(x, group.entry.conv, stride, dilation)
        if int(hp["units"][g]) == 0:
            x = torch.relu(_norm(x, group.entry_norm))
        assert len(group.units) == int(hp["units"][g])
        for unit in group.units:
            y = torch.relu(_norm(_conv(x, unit.first.conv.conv, 1, dilation), unit.first.norm))
            if g + 1 in attending:
                assert unit.attention.heads == int(hp["heads"])
                y = y + _self_attention(y, unit.attention)
            y = torch.relu(_norm(_conv(y, unit.second.conv.conv, 1, dilation), unit.second.norm))
            x = x + y if hp["residual"] else y
    return x


def randomise_norms(model: torch.nn.Module) -> None:
    """Non-trivial running statistics and affine parameters for every batch norm."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, MaskedBatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
