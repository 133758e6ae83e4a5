"""Training hyperparameters, shared by every torch model.

A model's ``defaults``/``variants`` mix architecture keys (read by its builder) and the
training keys below (read by the trainer); builders ignore the training keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

#: ``--precision`` choices (:mod:`serbench.training.precision`)
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class TrainingConfig:
    """How a torch model is trained.

    Attributes:
        lr: learning rate.
        optimizer: ``adam`` or ``sgd``.
        betas: Adam's (beta1, beta2).
        momentum: SGD momentum.
        weight_decay: L2 penalty.
        batch_size: utterances per batch.
        max_epochs: upper bound on epochs.
        patience: epochs without a better validation UA before stopping.
        min_epochs: epochs always run before early stopping may trigger.
        grad_clip: max gradient norm (0 disables). The default 5 is serbench's: none of
            the five papers states clipping, so each plugin README lists it among its
            differences from the paper.
        label_smoothing: cross-entropy label smoothing.
        class_weighting: weight the emotion loss by inverse class frequency.
        bucket_by_length: sort-ish batching to cut padding.
        task_weights: task -> loss weight (overrides the model spec's).
        precision: ``fp32``, ``bf16`` or ``fp16`` (:mod:`serbench.training.precision`).
    """

    lr: float = 1e-3
    optimizer: Literal["adam", "sgd"] = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 32
    max_epochs: int = 30
    patience: int = 5
    min_epochs: int = 1
    grad_clip: float = 5.0
    label_smoothing: float = 0.0
    class_weighting: bool = False
    bucket_by_length: bool = True
    task_weights: Mapping[str, float] = field(default_factory=dict)
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            from serbench.errors import ConfigError

            raise ConfigError(
                f"precision {self.precision!r} (--precision / --set precision=...): choose one "
                f"of {', '.join(PRECISIONS)}"
            )

    @classmethod
    def keys(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @classmethod
    def from_hparams(cls, hparams: Mapping[str, Any]) -> TrainingConfig:
        """Pick the training keys out of a model's hyperparameters."""
        picked = {k: v for k, v in hparams.items() if k in cls.keys()}
        if "betas" in picked:
            picked["betas"] = tuple(picked["betas"])
        return cls(**picked)

    def effective_task_weights(self, model_weights: Mapping[str, float]) -> dict[str, float]:
        """The loss weights a run trains with: emotion 1 unless set, then the model spec's
        ``task_weights``, then this config's overrides (as the trainer merges them)."""
        return {"emotion": 1.0, **dict(model_weights), **dict(self.task_weights)}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["betas"] = list(self.betas)
        out["task_weights"] = dict(self.task_weights)
        return out
