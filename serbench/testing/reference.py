"""Reference forward passes of serbench's shared blocks, for equation tests.

Each function computes ONE unpadded row with plain tensor operations and the weights of
a built module, independently of the module's own code paths, so a test that compares
the module with it fails when an equation in the module is replaced: convolutions with
explicit stride, dilation and "same" zero padding; batch normalisation from its running
statistics (eval mode); the residual skips; multi-head self-attention head by head
(``scaled_dot_product_attention``); LSTMs gate by gate. Used by the RLC and DRN plugins'
tests (both build :class:`serbench.nn.resconv.ConvFrontEnd`); plugin authors whose models
use these blocks can check theirs the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from serbench.nn.resconv import ConvFrontEnd, MaskedBatchNorm1d


def conv_same(x: torch.Tensor, conv: torch.nn.Conv1d, stride: int, dilation: int
              ) -> torch.Tensor:
    """x (T, C_in) -> (ceil(T / stride), C_out), "same" zero padding."""
    span = (conv.weight.shape[-1] - 1) * dilation
    padded = F.pad(x.T.unsqueeze(0), (span // 2, span - span // 2))
    return F.conv1d(padded, conv.weight, conv.bias, stride=stride, dilation=dilation)[0].T


def batch_norm_eval(x: torch.Tensor, bn: MaskedBatchNorm1d) -> torch.Tensor:
    """Eval-mode batch normalisation of x (T, C) from ``bn``'s running statistics."""
    return (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias


def self_attention_by_hand(x: torch.Tensor, att: torch.nn.Module) -> torch.Tensor:
    """Concat(head_1..head_r) W^O, head_i = softmax(Q_i K_i^T / sqrt(d)) V_i, for x (T, C)
    and a :class:`serbench.nn.attention` module with ``qkv``, ``out`` and ``heads``."""
    dim, r = x.shape[-1], att.heads
    d = dim // r
    q, k, v = (x @ w.T + b for w, b in zip(att.qkv.weight.split(dim), att.qkv.bias.split(dim),
                                          strict=True))
    heads = [F.scaled_dot_product_attention(*(t[None, :, i * d:(i + 1) * d] for t in (q, k, v)))[0]
             for i in range(r)]
    return torch.cat(heads, -1) @ att.out.weight.T + att.out.bias


def frontend_by_hand(x: torch.Tensor, frontend: ConvFrontEnd, hp: Mapping[str, Any]
                     ) -> torch.Tensor:
    """The residual convolutional front end as ``hp`` describes it, for one row
    x (T, D) -> (T', C_last). Structure (strides, dilations, units, residual, which
    groups attend) comes from ``hp``; only the weights are read from ``frontend``."""
    attending = {int(g) for g in hp["attention_groups"]} if hp["self_attention"] else set()
    dilations = hp.get("dilations", [1] * len(hp["channels"]))
    for g, group in enumerate(frontend.groups):
        stride, dilation = int(hp["strides"][g]), int(dilations[g])
        x = conv_same(x, group.entry.conv, stride, dilation)
        if int(hp["units"][g]) == 0:
            x = torch.relu(batch_norm_eval(x, group.entry_norm))
        assert len(group.units) == int(hp["units"][g])
        for unit in group.units:
            y = torch.relu(batch_norm_eval(conv_same(x, unit.first.conv.conv, 1, dilation),
                                           unit.first.norm))
            if g + 1 in attending:
                assert unit.attention.heads == int(hp["heads"])
                y = y + self_attention_by_hand(y, unit.attention)
            y = torch.relu(batch_norm_eval(conv_same(y, unit.second.conv.conv, 1, dilation),
                                           unit.second.norm))
            x = x + y if hp["residual"] else y
    return x


def lstm_by_hand(x: torch.Tensor, lstm: torch.nn.LSTM) -> torch.Tensor:
    """Gate by gate (order i, f, g, o), zero initial state, every layer of a
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


def randomise_norms(model: torch.nn.Module) -> None:
    """Non-trivial running statistics and affine parameters for every batch norm, so a
    reference that skipped normalisation would not match by accident."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, MaskedBatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
