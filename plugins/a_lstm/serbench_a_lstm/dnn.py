"""The multi-task DNN baseline of section 5.2 (Table 2, "DNN" on IS10 functionals).

Shared part: 2 fully connected layers of 4096 ReLU units; one sub-network per task
(emotion, speaker, gender): 1 fully connected layer of 2048 ReLU units and a softmax
layer. Dropout 0.5 after every hidden layer; SGD, batch 32 (the ModelSpec's defaults).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from torch import nn


class MultiTaskDNN(nn.Module):
    """Args: feature_dim D; tasks task -> classes; shared_units (4096, 4096);
    task_units 2048; dropout 0.5."""

    def __init__(self, feature_dim: int, tasks: Mapping[str, int], *,
                 shared_units: Sequence[int] = (4096, 4096), task_units: int = 2048,
                 dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = []
        size = feature_dim
        for units in shared_units:
            layers += [nn.Linear(size, int(units)), nn.ReLU(), nn.Dropout(dropout)]
            size = int(units)
        self.shared = nn.Sequential(*layers)
        self.branches = nn.ModuleDict({
            task: nn.Sequential(nn.Linear(size, task_units), nn.ReLU(), nn.Dropout(dropout),
                                nn.Linear(task_units, int(n)))
            for task, n in tasks.items()
        })

    def forward(self, batch: Batch) -> dict[str, torch.Tensor]:
        """batch.x: (B, D) functionals -> task -> logits (B, C_task)."""
        z = self.shared(batch.x)
        return {task: branch(z) for task, branch in self.branches.items()}


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> MultiTaskDNN:
    """serbench builder: ``shared_units``, ``task_units``, ``dropout``; tasks from
    ``spec.tasks``."""
    if spec.level != "functionals":
        raise ConfigError("alstm_dnn reads utterance functionals (B, D); choose e.g. is10")
    shared = hparams.get("shared_units", [4096, 4096])
    if isinstance(shared, int):
        shared = [shared]
    tasks = {"emotion": spec.num_classes, **{t: n for t, n in spec.tasks.items() if t != "emotion"}}
    return MultiTaskDNN(spec.feature_dim, tasks, shared_units=[int(u) for u in shared],
                        task_units=int(hparams.get("task_units", 2048)),
                        dropout=float(hparams.get("dropout", 0.5)))
