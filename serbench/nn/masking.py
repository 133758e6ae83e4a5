"""Masks from lengths, and reductions that ignore padding."""

from __future__ import annotations

import torch


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """Boolean mask of valid steps.

    Args:
        lengths: (B,) long.
        max_len: T; defaults to ``lengths.max()``.
    Returns:
        (B, T) bool, True where ``t < lengths[b]``.
    """
    t = int(lengths.max()) if max_len is None else max_len
    steps = torch.arange(t, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax over ``dim`` that gives padded positions exactly zero weight.

    Args:
        scores: (..., T) any float.
        mask: broadcastable to ``scores``, True on valid positions (at least one per row).
    """
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=dim)
    return weights * mask.to(weights.dtype)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over valid steps.

    Args:
        x: (B, T, D).
        mask: (B, T) bool.
    Returns:
        (B, D).
    """
    m = mask.unsqueeze(-1).to(x.dtype)
    return (x * m).sum(1) / m.sum(1).clamp_min(1.0)


def last_valid(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The output at the last valid step of each row.

    Args:
        x: (B, T, D).
        lengths: (B,) long, >= 1.
    Returns:
        (B, D).
    """
    index = (lengths - 1).clamp_min(0).view(-1, 1, 1).expand(-1, 1, x.shape[-1])
    return x.gather(1, index.to(x.device)).squeeze(1)
