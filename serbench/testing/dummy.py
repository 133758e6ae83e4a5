"""A tiny dummy model for tests: masked mean over frames -> linear layer.

Reads frames or functionals, honours padding, and, when ``spec.tasks`` holds auxiliary
tasks, returns a dict of task -> logits. It is what the ``dummy_model_spec`` fixture
registers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from serbench.data.batch import Batch, InputSpec
from serbench.nn.masking import masked_mean


class DummyModel(nn.Module):
    """Mean of the valid frames, one hidden layer, one linear head per task."""

    def __init__(self, spec: InputSpec, hidden: int = 8):
        super().__init__()
        self.level = spec.level
        self.body = nn.Sequential(nn.Linear(spec.feature_dim, hidden), nn.Tanh())
        tasks = dict(spec.tasks) or {"emotion": spec.num_classes}
        tasks.setdefault("emotion", spec.num_classes)
        self.heads = nn.ModuleDict({t: nn.Linear(hidden, n) for t, n in tasks.items()})

    def forward(self, batch: Batch) -> torch.Tensor | dict[str, torch.Tensor]:
        """Logits.

        Args:
            batch: ``x`` (B, T, D) with ``mask`` (B, T), or (B, D) functionals.
        Returns:
            (B, C) emotion logits, or task -> (B, C_task) when there are auxiliary tasks.
        """
        pooled = masked_mean(batch.x, batch.mask) if batch.x.dim() == 3 else batch.x
        h = self.body(pooled)
        if len(self.heads) == 1:
            return self.heads["emotion"](h)
        return {t: head(h) for t, head in self.heads.items()}


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> DummyModel:
    """``hidden`` (default 8) hidden units."""
    return DummyModel(spec, hidden=int(hparams.get("hidden", 8)))
