"""``mlp``: a feed-forward network on utterance functionals (the usual neural baseline).

The neural counterpart of ``svm``, and the model peer tools ship first (nkululeko's
``mlp``, EmoBox's linear/MLP probes): functionals (e.g. eGeMAPS, 88-d, per-speaker
z-normalised) -> ``[Linear -> ReLU -> Dropout] x len(hidden)`` -> Linear. Small corpora
over-fit it within a few epochs, so its default recipe (serbench/models/plugin.py,
measured in docs/training.md) adds input noise, dropout 0.5 and checkpoint averaging,
and chooses its epoch count by cross-validation over the development speakers
(``inner_folds``) before training on all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from serbench.data.batch import Batch, InputSpec


class FunctionalsMLP(nn.Module):
    """``[Linear -> ReLU -> Dropout] x L -> Linear``.

    Args:
        feature_dim: D, the functionals vector size.
        num_classes: C.
        hidden: the L layer widths, e.g. ``(256, 128)``.
        dropout: dropout after each hidden layer (and on the input when ``input_dropout``).
        input_dropout: dropout on the input functionals.
    """

    def __init__(
        self,
        feature_dim: int,
        num_classes: int,
        *,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.3,
        input_dropout: float = 0.0,
    ):
        super().__init__()
        layers: list[nn.Module] = [nn.Dropout(input_dropout)] if input_dropout > 0 else []
        size = feature_dim
        for width in hidden:
            layers += [nn.Linear(size, int(width)), nn.ReLU(), nn.Dropout(dropout)]
            size = int(width)
        layers.append(nn.Linear(size, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Emotion logits.

        Args:
            batch: ``x`` (B, D) functionals.
        Returns:
            (B, C) logits.
        """
        return self.net(batch.x)


def parse_widths(value: Any) -> tuple[int, ...]:
    """``"256,128"``, ``[256, 128]`` or ``256`` -> ``(256, 128)``; ``""`` -> no hidden layer."""
    if isinstance(value, int | float):
        return (int(value),)
    if isinstance(value, str):
        return tuple(int(part) for part in value.split(",") if part.strip())
    return tuple(int(v) for v in value)


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> nn.Module:
    """Build from hyperparameters ``hidden`` (layer widths), ``dropout``, ``input_dropout``
    and ``members`` (K > 1: a deep ensemble of K MLPs, :mod:`serbench.nn.ensemble`)."""
    if spec.level != "functionals":
        from serbench.errors import ConfigError

        raise ConfigError(
            "mlp reads one functionals vector per utterance; choose a functionals feature "
            "set (e.g. --feature egemaps)"
        )
    def one() -> FunctionalsMLP:
        return FunctionalsMLP(
            spec.feature_dim,
            spec.num_classes,
            hidden=parse_widths(hparams.get("hidden", "256,128")),
            dropout=float(hparams.get("dropout", 0.3)),
            input_dropout=float(hparams.get("input_dropout", 0.0)),
        )

    members = int(hparams.get("members", 1))
    if members == 1:
        return one()
    from serbench.nn.ensemble import MemberEnsemble

    return MemberEnsemble([one() for _ in range(members)])


def search_space() -> dict[str, Any]:
    """Layer widths, dropout, input noise and learning rate."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {
        "hidden": CategoricalDistribution(["64", "128", "256,128", "512,256"]),
        "dropout": FloatDistribution(0.0, 0.6),
        "feature_noise": FloatDistribution(0.0, 0.5),
        "lr": FloatDistribution(1e-4, 1e-2, log=True),
    }
