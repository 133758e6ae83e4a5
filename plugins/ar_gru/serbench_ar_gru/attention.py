"""IAAN's two attention layers (Yeh, Lin and Lee, ICASSP 2019, section 2).

* :class:`AdditiveSelfAttention` pools a previous turn's GRU outputs into one vector
  (``h_p`` for the speaker's own previous turn, ``h_r`` for the interlocutor's):
  ``e_t = u^T tanh(W h_t + b)``, ``a = softmax(e)``, ``h = sum_t a_t h_t``.
* :class:`InteractionAwareAttention` weights the current utterance's frames by how they
  relate to both previous turns:
  ``alpha_t = softmax_t(u^T tanh(W_c h_t + W_p h_p + W_r h_r + b))``.

Both give padded frames exactly zero weight (``serbench.nn.masking.masked_softmax``).
As in IAAN's published code, ``W``, ``b`` and ``u`` start from N(0, 0.1^2).
"""

from __future__ import annotations

import torch
from serbench.nn.masking import masked_softmax
from torch import nn

INIT_STD = 0.1


class AdditiveSelfAttention(nn.Module):
    """Additive self-attention pooling over time.

    Args:
        dim: size of each frame-level vector ``h_t``.
        attention_size: size of the projection ``W h_t + b`` (16 in IAAN's code).
    """

    def __init__(self, dim: int, attention_size: int):
        super().__init__()
        self.W = nn.Parameter(torch.randn(dim, attention_size) * INIT_STD)
        self.b = nn.Parameter(torch.randn(attention_size) * INIT_STD)
        self.u = nn.Parameter(torch.randn(attention_size) * INIT_STD)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool ``h`` over its valid frames.

        Args:
            h: (B, T, D) frame-level vectors.
            mask: (B, T) bool, True on valid frames, at least one per row.
        Returns:
            pooled: (B, D).
            weights: (B, T), zero on padding, summing to 1 per row.
        """
        scores = torch.tanh(h @ self.W + self.b) @ self.u  # (B, T)
        weights = masked_softmax(scores, mask, dim=-1)
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1), weights


class InteractionAwareAttention(nn.Module):
    """IAAN's interaction-aware attention (Yeh et al. 2019).

    Args:
        current_dim: size of the current utterance's frame vectors ``h_t``
            (2 x hidden for a BiGRU).
        context_dim: size of ``h_p`` and ``h_r``.
        attention_size: size of the shared projection space (16 in IAAN's code).
    """

    def __init__(self, current_dim: int, context_dim: int, attention_size: int):
        super().__init__()
        self.W_c = nn.Parameter(torch.randn(current_dim, attention_size) * INIT_STD)
        self.W_p = nn.Parameter(torch.randn(context_dim, attention_size) * INIT_STD)
        self.W_r = nn.Parameter(torch.randn(context_dim, attention_size) * INIT_STD)
        self.b = nn.Parameter(torch.randn(attention_size) * INIT_STD)
        self.u = nn.Parameter(torch.randn(attention_size) * INIT_STD)

    def forward(
        self, h: torch.Tensor, h_p: torch.Tensor, h_r: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend over the current utterance's frames given both previous turns.

        Args:
            h: (B, T, Dc) the current utterance's GRU outputs ``h_t``.
            h_p: (B, Dp) the speaker's own previous turn (zeros when absent).
            h_r: (B, Dp) the interlocutor's previous turn (zeros when absent).
            mask: (B, T) bool, True on valid frames, at least one per row.
        Returns:
            attended: (B, Dc), ``sum_t alpha_t h_t``.
            alpha: (B, T), zero on padding, summing to 1 per row.
        """
        context = (h_p @ self.W_p + h_r @ self.W_r + self.b).unsqueeze(1)  # (B, 1, A)
        scores = torch.tanh(h @ self.W_c + context) @ self.u  # (B, T)
        alpha = masked_softmax(scores, mask, dim=-1)
        return torch.bmm(alpha.unsqueeze(1), h).squeeze(1), alpha
