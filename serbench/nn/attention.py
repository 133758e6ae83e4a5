"""Masked multi-head self-attention (Vaswani et al., NeurIPS 2017, eqs. 1-2 / Sec. 3.2.2).

Used inside residual blocks by the RLC (Li et al., IJCAI 2019, Sec. 3.2, eqs. 2-3) and DRN
(Li et al., ICASSP 2019, Sec. 2.2, eqs. 3-4) models::

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V
    MultiHead(H) = Concat(head_1, ..., head_r) W^O,   head_i = Attention(H W_i^Q, H W_i^K, H W_i^V)

Padded keys get exactly zero weight (``serbench.nn.masking.masked_softmax``) and padded
query rows are zeroed, so padding never changes the valid part of the output. The
weights of the last call are kept (``last_weights``) for ``serbench explain``: RLC's
Fig. 5(a) draws one head's (T x T) correlation matrix.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from serbench.nn.masking import masked_softmax


class MultiHeadSelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention over a masked sequence.

    Args:
        dim: d_model, the size of each input frame (also d_k = d_v = d_model, split over heads).
        heads: r, the number of parallel heads (RLC/DRN: 4; DRN's ablation S3 uses 1).
        dropout: dropout on the attention weights (the authors' code uses 0.1).
        keep_weights: remember the (B, r, T, T) weights of the last forward pass.
    """

    def __init__(self, dim: int, heads: int = 4, *, dropout: float = 0.0, keep_weights: bool = True):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim={dim} must be divisible by heads={heads}")
        self.dim, self.heads = dim, heads
        self.d_head = dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)  # W^Q, W^K, W^V of all heads at once
        self.out = nn.Linear(dim, dim)  # W^O
        self.dropout = nn.Dropout(dropout)
        self.keep_weights = keep_weights
        self.last_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attend every valid frame to every valid frame.

        Args:
            x: (B, T, D) frames, D = ``dim``.
            mask: (B, T) bool, True on valid frames (at least one per row).
        Returns:
            (B, T, D) ``MultiHead(x)``, zero on padded frames.
        """
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.d_head).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)  # (B, r, T, T)
        weights = masked_softmax(scores, mask[:, None, None, :], dim=-1)
        if self.keep_weights:
            self.last_weights = weights.detach()
        heads = self.dropout(weights) @ v  # (B, r, T, d_head)
        out = self.out(heads.transpose(1, 2).reshape(b, t, self.dim))
        return out * mask.unsqueeze(-1).to(out.dtype)
