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
        feature_noise, time_masks, time_mask_width, feature_masks, feature_mask_width:
            training-batch augmentation (:mod:`serbench.training.augment`); off by default.
        select_window: K. Early stopping and selection look at the mean validation UA of
            the last K epochs, and the restored model is the average of those K epochs'
            weights (checkpoint averaging); 1 = the single best epoch.
        refit: after choosing the epoch on validation, train a fresh model (same seed) on
            the training and validation utterances together for that many epochs (and
            the same averaging window) and test that one: small corpora lose a fifth of
            their speakers to validation otherwise (docs/training.md).
        inner_folds: K >= 2 chooses the epoch count by cross-validation inside the fold's
            development speakers instead of on its one validation split: K
            speaker-disjoint groups each validate a model trained on the others, the median
            of their selected epochs is taken, and the tested model is trained on all
            development utterances for that many epochs (so it implies ``refit``);
            :mod:`serbench.training.inner_cv`. 0 = off.
        bn_recalibration: before each validation and at the end, recompute every batch
            norm's running statistics on the training data with dropout off
            (:mod:`serbench.training.batch_norm`): for models that put dropout before a
            batch norm, whose eval-mode output otherwise loses its dependence on the input.
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
    feature_noise: float = 0.0
    time_masks: int = 0
    time_mask_width: float = 0.1
    feature_masks: int = 0
    feature_mask_width: float = 0.1
    select_window: int = 1
    refit: bool = False
    inner_folds: int = 0
    bn_recalibration: bool = False

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            from serbench.errors import ConfigError

            raise ConfigError(
                f"precision {self.precision!r} (--precision / --set precision=...): choose one "
                f"of {', '.join(PRECISIONS)}"
            )
        if self.select_window < 1:
            from serbench.errors import ConfigError

            raise ConfigError(
                f"select_window={self.select_window} (--set select_window=K): K is the number "
                "of last epochs averaged for selection; use 1 or more"
            )
        if self.inner_folds < 0 or self.inner_folds == 1:
            from serbench.errors import ConfigError

            raise ConfigError(
                f"inner_folds={self.inner_folds} (--set inner_folds=K): K is the number of "
                "speaker groups that validate in turn; use 2 or more, or 0 (off)"
            )
        for name in ("time_mask_width", "feature_mask_width"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                from serbench.errors import ConfigError

                raise ConfigError(
                    f"{name}={getattr(self, name)} (--set {name}=...): a fraction in [0, 1]"
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
