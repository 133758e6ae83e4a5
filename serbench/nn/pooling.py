"""Attention-weighted pooling over time, and the interface models use to expose attention.

:class:`AttentionPooling` is the local attention of Mirsamadi et al. (2017), "Automatic
speech emotion recognition using recurrent neural networks with local attention",
ICASSP 2017, Sec. 3.3: a learnable vector ``u`` scores every frame-level output ``y_t``
of the recurrent layer, the scores are normalised with a softmax over time,

    alpha_t = exp(u^T y_t) / sum_tau exp(u^T y_tau)

and the utterance representation is the weighted mean ``z = sum_t alpha_t y_t``.
Padded frames get exactly zero weight, so appending padding never changes ``z``.

Attention maps for ``serbench explain``
---------------------------------------
A model that pools with attention exposes its weights through a method::

    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        '''name -> (B, T) weights over the frames of ``batch.x`` (zero on padding).'''

Names are free-form (``"frames"`` for a single pooling layer; ``"layer2"`` ... for
several), except ``"context/<turn>"``: weights over a previous turn's frames
(``batch.extras["<turn>_x"]``). Each map has one row per utterance and sums to 1 over
its valid frames. ``serbench explain`` calls it under ``torch.no_grad()`` in
``eval()`` mode and plots the maps against time; models without the method have
nothing to explain. :func:`has_attention_maps` tells the two apart.
The full interface, with maps of other shapes ((B, K, T) curves, (B, H, T, T) head
matrices), is documented in :mod:`serbench.explain`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from serbench.nn.masking import masked_softmax


class AttentionPooling(nn.Module):
    """Softmax attention over time with a learnable scoring vector ``u`` (Mirsamadi 2017).

    Args:
        dim: D, the size of each frame-level vector ``y_t``.
        bias: add a learnable scalar to the scores (does not change the softmax; kept
            off by default as in the paper).
    """

    def __init__(self, dim: int, *, bias: bool = False):
        super().__init__()
        # u in the paper: one score per frame, u^T y_t.
        self.u = nn.Linear(dim, 1, bias=bias)
        nn.init.normal_(self.u.weight, std=dim**-0.5)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool frames into one vector per utterance.

        Args:
            x: (B, T, D) frame-level vectors ``y_t`` (padding anywhere after the valid part).
            mask: (B, T) bool, True on valid frames; at least one per row.
        Returns:
            pooled: (B, D), ``z = sum_t alpha_t y_t``.
            weights: (B, T), ``alpha_t``; zero on padded frames, summing to 1 per row.
        """
        scores = self.u(x).squeeze(-1)  # (B, T): u^T y_t
        weights = masked_softmax(scores, mask, dim=-1)
        pooled = torch.bmm(weights.unsqueeze(1), x).squeeze(1)
        return pooled, weights


def has_attention_maps(model: Any) -> bool:
    """Whether ``model`` implements the ``attention_maps(batch)`` interface above."""
    return callable(getattr(model, "attention_maps", None))
