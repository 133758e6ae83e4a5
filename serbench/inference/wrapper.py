"""A plain-tensor face for any serbench torch model: ``(x, lengths) -> probabilities``.

serbench models read a :class:`serbench.data.batch.Batch` and may return a dict of task
logits; exporters and deployments want tensors in and one tensor out. :class:`TensorModel`
builds the Batch inside ``forward`` (the mask from ``lengths``, as
:func:`serbench.data.dataset.collate` does) and returns the softmax of the emotion logits,
so the same wrapper serves ``serbench predict``, ONNX and TorchScript.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from serbench.data.batch import Batch


class TensorModel(nn.Module):
    """Wraps a Batch-reading model.

    Args:
        net: the serbench model (``net(batch)`` -> (B, C) logits or ``{"emotion": (B, C)}``).
        level: ``"frames"``, ``"functionals"`` or ``"waveform"``, the input level it was
            trained on.
    """

    def __init__(self, net: nn.Module, level: str):
        super().__init__()
        self.net = net
        self.frames = level in ("frames", "waveform")
        self.waveform = level == "waveform"

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class probabilities.

        Args:
            x: (B, T, D) float frames, zero-padded after ``lengths``; or (B, D) functionals;
                or audio (B, N) or (B, N, 1) for a waveform model (passed on as (B, N)).
            lengths: (B,) long, valid frames per row (ones for functionals).
        Returns:
            (B, C) float, softmax of the emotion logits (rows sum to 1).
        """
        if self.waveform and x.dim() == 3:
            x = x[..., 0]
        if self.frames:
            steps = torch.arange(x.shape[1], device=x.device)
            mask = steps.unsqueeze(0) < lengths.unsqueeze(1)
        else:
            mask = torch.ones(x.shape[0], 1, dtype=torch.bool, device=x.device)
        out: Any = self.net(Batch(x=x, lengths=lengths, mask=mask))
        logits = out["emotion"] if isinstance(out, dict) else out
        return torch.softmax(logits, dim=-1)
