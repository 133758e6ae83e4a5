"""A reference RLC forward pass written from the paper (Li et al., IJCAI 2019), for tests.

Every function computes one unpadded row with plain tensor operations and the weights of
a built module, independently of the module's own code paths: layer normalisation by its
formula and GCA-LSTM's eqs. 9-12 here; the residual convolutional front end (Sec.
3.1-3.2) and LSTMs gate by gate come from :mod:`serbench.testing.reference`, shared with
the DRN tests.
"""

from __future__ import annotations

import torch
from serbench.testing.reference import (  # noqa: F401 - re-exported for the RLC tests
    frontend_by_hand,
    lstm_by_hand,
    randomise_norms,
)

from serbench_rlc.gca import GCALSTM


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
