"""The model: functionals (B, D) -> hidden ReLU layer -> emotion logits (B, C)."""

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from serbench.data.batch import Batch, InputSpec


class MLP(nn.Module):
    def __init__(self, feature_dim: int, num_classes: int, hidden: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(feature_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, batch: Batch) -> torch.Tensor:
        """batch.x: (B, D) functionals -> (B, C) logits."""
        return self.net(batch.x)


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> MLP:
    """serbench calls this with the input spec and every hyperparameter."""
    return MLP(spec.feature_dim, spec.num_classes, int(hparams["hidden"]), float(hparams["dropout"]))


def search_space() -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    return {"hidden": IntDistribution(8, 256, log=True), "dropout": FloatDistribution(0.0, 0.5)}
