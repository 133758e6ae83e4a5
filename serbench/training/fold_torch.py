""":func:`serbench.training.fold.run_fold` for torch models: train, predict, then time."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from serbench.components import ModelSpec
from serbench.data.batch import InputSpec
from serbench.data.context import ContextRef
from serbench.data.dataset import FeatureLookup, UtteranceDataset, collate
from serbench.lazy import resolve
from serbench.protocols.base import Fold
from serbench.training.config import TrainingConfig
from serbench.training.device import out_of_memory
from serbench.training.inner_cv import InnerSelection, cross_validate_epochs
from serbench.training.precision import autocast
from serbench.training.timing import (
    clock_name,
    count_parameters,
    device_name,
    measure_inference,
    peak_memory,
    reset_peak_memory,
)
from serbench.training.trainer import (
    EpochCallback,
    TrainResult,
    predict,
    train,
    unweighted_accuracy,
)


def build_torch_model(
    model: ModelSpec, spec: InputSpec, hparams: Mapping[str, Any]
) -> torch.nn.Module:
    """Call the spec's builder and check it returned a torch module."""
    from serbench.errors import ConfigError

    module = resolve(model.builder)(spec, dict(hparams))
    if not isinstance(module, torch.nn.Module):
        raise ConfigError(
            f"model {model.name!r}: builder {model.builder!r} returned "
            f"{type(module).__name__}, not a torch.nn.Module (set framework='sklearn' for "
            "scikit-learn estimators)"
        )
    return module


def _refit(model, hparams, config, fold, features, spec, targets, epochs, *,
           device, seed, context, tokens) -> tuple[torch.nn.Module, TrainResult]:
    """A fresh model trained on train + valid for ``epochs`` epochs (``config.refit``).

    Same seed, same recipe, no validation: the last ``select_window`` epochs' weights
    are averaged as selection averaged them. Returns the model and its training result.
    """
    from dataclasses import replace

    from serbench.training.seeding import seed_everything

    both = UtteranceDataset(
        [*fold.train, *fold.valid], features, spec.level,
        {task: np.concatenate([targets["train"][task], targets["valid"][task]])
         for task in targets["train"]},
        context=context, tokens=tokens,
    )
    seed_everything(seed)
    net = build_torch_model(model, spec, hparams).to(device)
    again = train(net, both, None, replace(config, max_epochs=max(int(epochs), 1)),
                  num_classes=spec.num_classes, task_weights=model.task_weights, seed=seed,
                  device=device, description=f"{fold.name} refit")
    return net, again


def _inner_selection(model, hparams, config, fold, features, spec, targets, speaker_of, *,
                     device, seed, context, tokens, progress) -> InnerSelection:
    """``config.inner_folds``: the epoch count chosen by cross-validation over the fold's
    development speakers (:mod:`serbench.training.inner_cv`); the test part is never read."""
    from serbench.training.seeding import seed_everything

    dev = [*fold.train, *fold.valid]
    by_utt = {task: dict(zip(dev, np.concatenate([targets["train"][task],
                                                   targets["valid"][task]]), strict=True))
              for task in targets["train"]}
    counter = iter(range(1, config.inner_folds + 1))

    def train_one(train_ids, valid_ids):
        def dataset(ids):
            return UtteranceDataset(
                list(ids), features, spec.level,
                {task: np.array([by_utt[task][u] for u in ids], dtype=np.int64)
                 for task in by_utt},
                context=context, tokens=tokens)

        tr, va = dataset(train_ids), dataset(valid_ids)
        seed_everything(seed)
        net = build_torch_model(model, spec, hparams).to(device)
        res = train(net, tr, va, config, num_classes=spec.num_classes,
                    task_weights=model.task_weights, seed=seed, device=device,
                    progress=progress, description=f"{fold.name} inner {next(counter)}")
        probs = predict(net, va, batch_size=config.batch_size, device=device,
                        precision=config.precision)[0]
        ua = unweighted_accuracy(va.targets["emotion"], probs.argmax(-1))
        return res.best_epoch, ua, probs, res.train_seconds

    return cross_validate_epochs(dev, speaker_of, config.inner_folds, train_one)


def run_torch_fold(
    model: ModelSpec,
    hparams: Mapping[str, Any],
    config: TrainingConfig,
    fold: Fold,
    features: FeatureLookup,
    spec: InputSpec,
    targets: dict[str, dict[str, np.ndarray]],
    *,
    device: torch.device,
    seed: int,
    context: Mapping[str, ContextRef] | None,
    tokens: Mapping[str, Sequence[int]] | None,
    callbacks: Sequence[EpochCallback],
    progress: Any | None,
    checkpoint: Path | None,
    save: Callable[[Path, dict[str, Any]], None],
    speaker_of: Mapping[str, str] | None = None,
) -> Any:
    from serbench.training.fold import FoldOutcome

    reset_peak_memory(device)
    splits = {
        name: UtteranceDataset(
            getattr(fold, name), features, spec.level, targets[name], context=context, tokens=tokens
        )
        for name in ("train", "valid", "test")
    }
    valid = splits["valid"]  # scored for validation-only score fusion (serbench fuse)
    selection: dict[str, Any] = {}
    try:
        if config.inner_folds:
            if speaker_of is None:
                raise ValueError("inner_folds needs the utterances' speakers (speaker_of)")
            inner = _inner_selection(model, hparams, config, fold, features, spec, targets,
                                     speaker_of, device=device, seed=seed, context=context,
                                     tokens=tokens, progress=progress)
            net, result = _refit(model, hparams, config, fold, features, spec, targets,
                                 inner.epochs, device=device, seed=seed, context=context,
                                 tokens=tokens)
            result.best_epoch, selection = inner.epochs, inner.summary()
            train_seconds = inner.train_seconds + result.train_seconds
            # out-of-fold scores: each validation utterance from the inner model that held
            # it out (the tested model has seen it)
            valid_probs = (np.stack([inner.oof_scores[u] for u in valid.utt_ids])
                           if len(valid) else np.zeros((0, spec.num_classes)))
        else:
            net = build_torch_model(model, spec, hparams).to(device)
            result = train(
                net,
                splits["train"],
                valid if len(valid) else None,
                config,
                num_classes=spec.num_classes,
                task_weights=model.task_weights,
                seed=seed,
                device=device,
                callbacks=callbacks,
                progress=progress,
                description=f"{fold.name} epochs",
            )
            train_seconds = result.train_seconds
            # the selected model's validation scores: with refit, the tested model has
            # seen them
            valid_probs = (predict(net, valid, batch_size=config.batch_size, device=device,
                                   precision=config.precision)[0]
                           if len(valid) else np.zeros((0, spec.num_classes)))
            if config.refit and len(valid):
                net, again = _refit(model, hparams, config, fold, features, spec, targets,
                                    result.best_epoch, device=device, seed=seed,
                                    context=context, tokens=tokens)
                train_seconds += again.train_seconds
    except torch.cuda.OutOfMemoryError as exc:
        raise out_of_memory(model.name, config.batch_size, config.precision, "training",
                            device) from exc
    if checkpoint is not None:
        save(
            Path(checkpoint),
            {
                "state_dict": {k: v.cpu() for k, v in net.state_dict().items()},
                "input_spec": asdict(spec),
                "hparams": dict(hparams),
                "model": model.name,
                "version": model.version,
            },
        )
    test = splits["test"]
    try:
        probs, _ = predict(net, test, batch_size=config.batch_size, device=device,
                           precision=config.precision)

        @torch.no_grad()
        def infer(rows: Sequence[int]) -> torch.Tensor:
            with autocast(config.precision, device):
                return net(collate([test[i] for i in rows], test.level).to(device))

        net.eval()
        timing = measure_inference(infer, len(test), batch_size=config.batch_size,
                                   device=device)
    except torch.cuda.OutOfMemoryError as exc:
        raise out_of_memory(model.name, config.batch_size, config.precision, "inference",
                            device) from exc
    memory, kind = peak_memory(device)
    return FoldOutcome(
        utt_ids=list(test.utt_ids),
        y_true=test.targets["emotion"],
        y_pred=probs.argmax(-1).astype(np.int64),
        scores=probs,
        best_epoch=result.best_epoch,
        epochs_run=result.epochs_run,
        stopped_early=result.stopped_early,
        curve=result.curve,
        timing={
            "train_seconds": train_seconds,
            "train_seconds_per_epoch": result.train_seconds / max(result.epochs_run, 1),
            **timing,
            "n_parameters": count_parameters(net),
            "peak_memory_mb": memory,
            "peak_memory_kind": kind,
            "clock": clock_name(device),
            "device": device.type,
            "device_name": device_name(device),
            "precision": config.precision,
            "data_wait_share": result.data_wait_share,
        },
        padded_share=result.padded_share,
        n_train=len(fold.train),
        n_valid=len(fold.valid),
        valid_utt_ids=list(valid.utt_ids),
        valid_y_true=valid.targets["emotion"],
        valid_scores=valid_probs,
        selection=selection,
    )
