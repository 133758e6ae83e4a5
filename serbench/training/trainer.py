"""The torch trainer shared by every model.

One loop for all models: Adam or SGD (:class:`TrainingConfig`), cross-entropy with
optional inverse-frequency class weights and label smoothing, multi-task losses
(``sum_t w_t * CE_t`` over the tasks a model returns; targets ``-100`` are ignored),
gradient-norm clipping, and early stopping on validation UA with patience; the weights
of the best epoch are restored at the end. With ``bn_recalibration`` every epoch ends by
recomputing batch-norm statistics with dropout off (:mod:`serbench.training.batch_norm`).
Validation is the fold's validation split (carved from its training part): nothing here
ever sees test utterances.

``config.precision`` (``--precision``) runs the forward pass and the loss under autocast,
with a loss scaler for fp16 (:mod:`serbench.training.precision`); batches come from
:class:`~serbench.training.prefetch.Prefetcher` (collated ahead and pinned on CUDA), which
also measures the share of training time spent waiting for them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from serbench.data.batch import Batch
from serbench.data.dataset import IGNORE_INDEX, UtteranceDataset
from serbench.errors import ConfigError
from serbench.training.augment import augment_batch, augmentation_active
from serbench.training.batch_norm import batch_norms, recalibrate_batch_norm
from serbench.training.config import TrainingConfig
from serbench.training.precision import autocast, check_precision, grad_scaler
from serbench.training.prefetch import Prefetcher
from serbench.training.selection import CheckpointSelector
from serbench.training.timing import Stopwatch

#: ``callback(epoch, metrics)``; ``metrics`` is the epoch's curve row. May raise to stop
#: training (e.g. ``optuna.TrialPruned``); the exception propagates to the caller.
EpochCallback = Callable[[int, dict[str, Any]], None]


@dataclass
class TrainResult:
    """What training produced (the model itself holds the restored best weights)."""

    best_epoch: int
    epochs_run: int
    stopped_early: bool
    curve: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0
    best_valid_ua: float | None = None
    padded_share: float = 0.0
    #: share of the training time spent waiting for a batch (serbench.training.prefetch)
    data_wait_share: float = 0.0


def unweighted_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """UA (= UAR, macro recall) over the classes present in ``y_true``."""
    from sklearn.metrics import balanced_accuracy_score

    with warnings.catch_warnings():  # predicted classes absent from y_true are expected
        warnings.simplefilter("ignore")
        return float(balanced_accuracy_score(y_true, y_pred))


def class_weights(targets: np.ndarray, num_classes: int) -> torch.Tensor:
    """Inverse-frequency weights ``N / (C * n_c)`` (sklearn's "balanced"); 0 for absent classes."""
    known = targets[targets != IGNORE_INDEX]
    counts = np.bincount(known, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(known) / (num_classes * np.maximum(counts, 1)), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


def as_task_dict(output: torch.Tensor | Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A model's output as ``task -> logits``; a bare tensor is the emotion task."""
    if isinstance(output, torch.Tensor):
        return {"emotion": output}
    if not isinstance(output, Mapping) or "emotion" not in output:
        raise ConfigError(
            "a model must return a (B, C) tensor of emotion logits or a dict of task -> "
            f"logits with key 'emotion'; got {type(output).__name__}"
            + (f" with keys {sorted(output)}" if isinstance(output, Mapping) else "")
        )
    return dict(output)


def _optimizer(model: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(
            params, lr=config.lr, betas=tuple(config.betas), weight_decay=config.weight_decay
        )
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    raise ConfigError(f"unknown optimizer {config.optimizer!r}; choose 'adam' or 'sgd'")


class MultiTaskLoss:
    """``sum_t w_t * CE(logits_t, targets_t)``; rows with target -100 are ignored.

    Logits are (B, C), or (K, B, C) from an ensemble of K members in training mode
    (:class:`serbench.nn.ensemble.MemberEnsemble`): the loss is then the mean of the
    members' cross-entropies.

    Args:
        task_weights: task -> weight; emotion defaults to 1, any other task the model
            returns must be listed (weight 0 switches it off).
        emotion_weight: per-class weights (C,) for the emotion task, or None.
        label_smoothing: applied to every task.
    """

    def __init__(
        self,
        task_weights: Mapping[str, float],
        *,
        emotion_weight: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
    ):
        self.task_weights = {"emotion": 1.0, **dict(task_weights)}
        self.emotion_weight = emotion_weight
        self.label_smoothing = label_smoothing

    def __call__(self, outputs: Mapping[str, torch.Tensor], batch: Batch) -> torch.Tensor:
        total: torch.Tensor | None = None
        for task, logits in outputs.items():
            if task not in self.task_weights:
                raise ConfigError(
                    f"the model returned logits for task {task!r} but no loss weight is set "
                    "for it; add it to the ModelSpec's task_weights or the task_weights "
                    "hyperparameter"
                )
            weight = float(self.task_weights[task])
            if weight == 0.0:
                continue
            if task not in batch.targets:
                raise ConfigError(f"no targets for task {task!r}: the manifest lacks its column")
            target = batch.targets[task]
            if not bool((target != IGNORE_INDEX).any()):
                continue  # every row unknown for this task: no signal, avoid a NaN mean
            if logits.dim() == 3:  # (K, B, C): an ensemble's members (serbench.nn.ensemble)
                logits = logits.reshape(-1, logits.shape[-1])  # mean over members and rows
                target = target.repeat(len(logits) // len(target))
            loss = F.cross_entropy(
                logits,
                target,
                weight=self.emotion_weight.to(logits.device)
                if task == "emotion" and self.emotion_weight is not None
                else None,
                ignore_index=IGNORE_INDEX,
                label_smoothing=self.label_smoothing,
            )
            total = weight * loss if total is None else total + weight * loss
        if total is None:
            first = next(iter(outputs.values()))
            return first.sum() * 0.0  # keeps the graph; nothing to learn from this batch
        return total


@torch.no_grad()
def predict(
    model: nn.Module, dataset: UtteranceDataset, *, batch_size: int, device: torch.device,
    precision: str = "fp32",
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Emotion probabilities (N, C) in dataset row order, and every task's logits."""
    model.eval()
    order: list[int] = []
    chunks: dict[str, list[torch.Tensor]] = {}
    device = torch.device(device)
    for rows, _, batch in _in_order(dataset, batch_size, device):
        with autocast(precision, device):
            output = as_task_dict(model(batch))
        for task, logits in output.items():
            chunks.setdefault(task, []).append(logits.float().cpu())
        order.extend(rows)
    inverse = np.argsort(np.asarray(order))
    logits = {task: torch.cat(parts)[inverse].numpy() for task, parts in chunks.items()}
    probs = torch.softmax(torch.from_numpy(logits["emotion"]), dim=-1).numpy()
    return probs, logits


def _collate_rows(dataset: UtteranceDataset, rows: Sequence[int]) -> Batch:
    from serbench.data.dataset import collate

    return collate([dataset[i] for i in rows], dataset.level)


def _in_order(dataset: UtteranceDataset, batch_size: int, device: torch.device, *,
              bucket: bool = True) -> Prefetcher:
    """The dataset's batches in a fixed order (no shuffling), as (rows, host, device batch)."""
    batches = dataset.batch_indices(batch_size, shuffle=False, bucket=bucket, seed=0, epoch=0)
    return Prefetcher(batches, lambda rows: _collate_rows(dataset, rows), device)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    dataset: UtteranceDataset,
    loss_fn: MultiTaskLoss,
    *,
    batch_size: int,
    device: torch.device,
    precision: str = "fp32",
) -> tuple[float, float]:
    """(mean loss per batch-utterance, UA) on a split."""
    model.eval()
    total, n = 0.0, 0
    preds: list[np.ndarray] = []
    truth: list[np.ndarray] = []
    device = torch.device(device)
    for _, _, batch in _in_order(dataset, batch_size, device):
        with autocast(precision, device):
            outputs = as_task_dict(model(batch))
            loss = loss_fn(outputs, batch)
        total += float(loss) * len(batch)
        n += len(batch)
        preds.append(outputs["emotion"].argmax(-1).cpu().numpy())
        truth.append(batch.targets["emotion"].cpu().numpy())
    return total / max(n, 1), unweighted_accuracy(np.concatenate(truth), np.concatenate(preds))


def _recalibrate(model: nn.Module, dataset: UtteranceDataset, config: TrainingConfig,
                 device: torch.device) -> None:
    """Batch-norm statistics from ``dataset`` with dropout off (``bn_recalibration``)."""
    if not batch_norms(model):  # e.g. rlc's baseline: nothing to collate batches for
        return
    batches = _in_order(dataset, config.batch_size, device, bucket=config.bucket_by_length)
    with autocast(config.precision, device):
        recalibrate_batch_norm(model, (batch for _, _, batch in batches))


def train(
    model: nn.Module,
    train_set: UtteranceDataset,
    valid_set: UtteranceDataset | None,
    config: TrainingConfig,
    *,
    num_classes: int,
    task_weights: Mapping[str, float] | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    callbacks: Sequence[EpochCallback] = (),
    progress: Any | None = None,
    description: str = "epochs",
) -> TrainResult:
    """Train ``model`` in place and restore the weights of its best validation epoch.

    Args:
        model: the module; ``model(batch)`` returns logits (B, C) or ``task -> logits``.
        train_set, valid_set: the fold's training and validation splits; without a
            validation split, every epoch runs and the last weights are kept.
        config: optimiser, batch size, epochs, patience, clipping, ...
        num_classes: C, for class weighting.
        task_weights: task -> loss weight (the model spec's, overridden by
            ``config.task_weights``).
        seed: batch order is a function of (seed, epoch).
        device: where to train.
        callbacks: called after each epoch with its curve row; exceptions propagate.
        progress: a ``rich.progress.Progress`` to show an epoch bar in.
        description: label of that bar.
    """
    device = torch.device(device)
    check_precision(config.precision, device)
    model.to(device)
    scaler = grad_scaler(config.precision, device)
    weights = {**dict(task_weights or {}), **dict(config.task_weights)}
    emotion_weight = (
        class_weights(train_set.targets["emotion"], num_classes) if config.class_weighting else None
    )
    loss_fn = MultiTaskLoss(
        weights, emotion_weight=emotion_weight, label_smoothing=config.label_smoothing
    )
    optimizer = _optimizer(model, config)
    has_valid = valid_set is not None and len(valid_set) > 0
    selector = CheckpointSelector(config.select_window, config.max_epochs)
    augment = augmentation_active(config)
    result = TrainResult(best_epoch=0, epochs_run=0, stopped_early=False)
    task_id = progress.add_task(description, total=config.max_epochs) if progress else None
    padded = valid_frames = 0
    waited = 0.0
    try:
        for epoch in range(1, config.max_epochs + 1):
            model.train()
            running, seen = 0.0, 0
            batches = Prefetcher(
                train_set.batch_indices(
                    config.batch_size,
                    shuffle=True,
                    bucket=config.bucket_by_length,
                    seed=seed,
                    epoch=epoch,
                ),
                lambda rows: _collate_rows(train_set, rows),
                device,
            )
            draws = torch.Generator().manual_seed(seed * 100_003 + epoch) if augment else None
            with Stopwatch(device) as watch:
                for _, host, batch in batches:
                    padded += host.mask.numel()
                    valid_frames += int(host.mask.sum())
                    if draws is not None:
                        batch = augment_batch(batch, config, draws)
                    optimizer.zero_grad(set_to_none=True)
                    with autocast(config.precision, device):
                        loss = loss_fn(as_task_dict(model(batch)), batch)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"training loss became {float(loss)} at epoch {epoch}; lower the "
                            "learning rate or enable gradient clipping (grad_clip)"
                        )
                    scaler.scale(loss).backward()
                    if config.grad_clip and config.grad_clip > 0:
                        scaler.unscale_(optimizer)  # clip the true gradients, not scaled ones
                        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                    scaler.step(optimizer)  # skips the step if fp16 gradients overflowed
                    scaler.update()
                    running += float(loss.detach()) * len(batch)
                    seen += len(batch)
                if config.bn_recalibration:  # part of the epoch's cost
                    _recalibrate(model, train_set, config, device)
            row: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": running / max(seen, 1),
                "valid_loss": None,
                "valid_ua": None,
                "seconds": watch.seconds,
            }
            result.train_seconds += watch.seconds
            waited += batches.wait_seconds
            result.epochs_run = epoch
            if has_valid:
                assert valid_set is not None
                row["valid_loss"], row["valid_ua"] = evaluate(
                    model, valid_set, loss_fn, batch_size=config.batch_size, device=device,
                    precision=config.precision,
                )
                score = selector.update(epoch, model.state_dict(), row["valid_ua"])
                if config.select_window > 1:
                    row["valid_ua_window"] = score
            else:
                selector.update(epoch, model.state_dict(), None)
            result.curve.append(row)
            if progress is not None:
                progress.update(task_id, advance=1)
            for callback in callbacks:
                callback(epoch, dict(row))
            if has_valid and selector.may_stop(epoch, config.min_epochs, config.patience):
                result.stopped_early = epoch < config.max_epochs
                break
    finally:
        if progress is not None:
            progress.remove_task(task_id)
    if selector.best_state is not None:
        model.load_state_dict(selector.best_state)
        if config.bn_recalibration and config.select_window > 1:
            _recalibrate(model, train_set, config, device)  # for the averaged weights
    result.best_epoch = selector.best_epoch
    result.best_valid_ua = selector.best_score if has_valid else None
    result.padded_share = 1.0 - valid_frames / padded if padded else 0.0
    result.data_wait_share = min(1.0, waited / result.train_seconds) if result.train_seconds else 0.0
    return result
