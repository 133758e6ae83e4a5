"""Training-time augmentation of a batch's features (serbench's shared recipe).

None of the five papers augments; on small corpora the training curves over-fit within a
few epochs (docs/training.md), so the trainer can perturb each training batch:

- ``feature_noise`` (sigma): Gaussian noise ``x + sigma * N(0, 1)`` on every valid frame
  (features are z-normalised, so sigma is in standard deviations).
- ``time_masks`` (M) of up to ``time_mask_width`` (a fraction of each utterance's
  length): SpecAugment-style time masking, M spans per utterance set to zero (the mean
  of z-normalised features).
- ``feature_masks`` (M) of up to ``feature_mask_width`` (a fraction of D): M bands of
  feature dimensions per utterance set to zero.

Masks and noise only touch valid frames, so padding stays zero; validation and test
batches are never augmented. Draws come from a generator seeded by (seed, epoch), so a
run is reproducible.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from serbench.data.batch import Batch


def augmentation_active(config) -> bool:
    """Whether ``config`` (a :class:`~serbench.training.config.TrainingConfig`) augments."""
    return bool(config.feature_noise > 0 or config.time_masks > 0 or config.feature_masks > 0)


def augment_batch(batch: Batch, config, generator: torch.Generator) -> Batch:
    """A copy of ``batch`` with ``x`` perturbed as ``config`` says; other fields shared.

    Args:
        batch: ``x`` (B, T, D) frames with ``mask`` (B, T), or (B, D) functionals
            (noise and feature masks only; time masks need frames). Waveform batches
            ((B, N) with a (B, N) mask) and integer inputs come back unchanged.
        config: the training config (``feature_noise``, ``time_masks``,
            ``time_mask_width``, ``feature_masks``, ``feature_mask_width``).
        generator: CPU generator the draws come from.
    """
    x = batch.x
    if x.dim() not in (2, 3) or not x.is_floating_point():
        return batch  # token inputs: nothing here applies
    if x.dim() == 2 and batch.mask.shape[1] != 1:
        return batch  # (B, N) waveforms (mask (B, N)), not (B, D) functionals (mask (B, 1))
    frames = x.dim() == 3
    x3 = x if frames else x.unsqueeze(1)  # (B, T, D); functionals as T = 1
    valid = (batch.mask if frames else torch.ones(x.shape[0], 1, dtype=torch.bool)).to(x3.device)
    B, T, D = x3.shape
    keep = torch.ones(B, T, D, dtype=x3.dtype)
    if frames and config.time_masks > 0:
        lengths = batch.lengths.cpu().to(torch.float32)
        for _ in range(int(config.time_masks)):
            width = (torch.rand(B, generator=generator) * config.time_mask_width * lengths).long()
            start = (torch.rand(B, generator=generator) * (lengths - width).clamp(min=0)).long()
            t = torch.arange(T)
            span = (t[None, :] >= start[:, None]) & (t[None, :] < (start + width)[:, None])
            keep[span] = 0
    if config.feature_masks > 0:
        for _ in range(int(config.feature_masks)):
            width = (torch.rand(B, generator=generator) * config.feature_mask_width * D).long()
            start = (torch.rand(B, generator=generator) * (D - width).clamp(min=0)).long()
            d = torch.arange(D)
            band = (d[None, :] >= start[:, None]) & (d[None, :] < (start + width)[:, None])
            keep = keep * (~band)[:, None, :].to(keep.dtype)
    out = x3 * keep.to(x3.device)
    if config.feature_noise > 0:
        noise = torch.randn(B, T, D, generator=generator).to(x3.device, x3.dtype)
        out = out + config.feature_noise * noise * valid[..., None].to(x3.dtype)
    return replace(batch, x=out if frames else out.squeeze(1))
