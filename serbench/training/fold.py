"""One fold end to end: build the model, train on train/valid, predict test, time it.

:func:`run_fold` is the single call the run pipeline (and Optuna) makes per fold. It
seeds everything, builds the model from its spec, trains it (torch: the shared
:mod:`serbench.training.trainer`; scikit-learn: :mod:`serbench.training.sklearn_runner`),
predicts the test utterances only after training, and then measures timing on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from serbench.components import ModelSpec
from serbench.data.batch import InputSpec
from serbench.data.dataset import IGNORE_INDEX, FeatureLookup
from serbench.errors import ConfigError
from serbench.features.waveform import NAMES as WAVEFORM_NAMES
from serbench.features.waveform import model_sample_rate
from serbench.protocols.base import Fold
from serbench.training.config import TrainingConfig
from serbench.training.trainer import EpochCallback

__all__ = ["EpochCallback", "FoldOutcome", "run_fold"]


@dataclass
class FoldOutcome:
    """The result of one fold.

    Attributes:
        utt_ids: the test utterances, in prediction order.
        y_true, y_pred: (N,) class indices into ``classes``.
        scores: (N, C) emotion scores (probabilities for torch models; the estimator's
            ``predict_proba`` or ``decision_function`` for scikit-learn).
        best_epoch, epochs_run, stopped_early: early-stopping outcome (None/0/False for
            scikit-learn).
        curve: one row per epoch: epoch, train_loss, valid_loss, valid_ua, seconds.
        timing: train_seconds, train_seconds_per_epoch, inference_latency_ms,
            throughput_utt_per_s, n_parameters, peak_memory_mb, peak_memory_kind,
            clock, device, device_name.
        padded_share: fraction of padded frames in the training batches.
        n_train, n_valid: sizes of the splits used.
        valid_utt_ids, valid_y_true, valid_scores: the validation utterances and the final
            (restored best) model's emotion scores (N_v, C) on them, for score fusion
            fitted on validation data only (``serbench fuse``); empty when the fold has
            no validation split.
        selection: how the epoch count was chosen when it was not on the validation split
            alone (``inner_folds``: :meth:`serbench.training.inner_cv.InnerSelection.summary`);
            empty otherwise.
    """

    utt_ids: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray
    best_epoch: int | None
    epochs_run: int
    stopped_early: bool
    curve: list[dict[str, Any]] = field(default_factory=list)
    timing: dict[str, Any] = field(default_factory=dict)
    padded_share: float | None = None
    n_train: int = 0
    n_valid: int = 0
    valid_utt_ids: list[str] = field(default_factory=list)
    valid_y_true: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    valid_scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    selection: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (arrays as lists)."""
        out = asdict(self)
        for key in ("y_true", "y_pred", "scores", "valid_y_true", "valid_scores"):
            out[key] = np.asarray(getattr(self, key)).tolist()
        return out


def _rows(manifest: pl.DataFrame, columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {r["utt_id"]: r for r in manifest.select(["utt_id", *columns]).iter_rows(named=True)}


def _targets(
    manifest: pl.DataFrame,
    fold: Fold,
    classes: Sequence[str],
    aux_tasks: Sequence[str],
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, int]]:
    """Per split, task -> class indices; and task -> number of classes."""
    missing = [t for t in aux_tasks if t not in manifest.columns]
    if missing:
        raise ConfigError(
            f"the model has auxiliary task(s) {missing} but the manifest has no such "
            f"column(s); available columns: {manifest.columns}"
        )
    rows = _rows(manifest, ["label", *aux_tasks])
    index = {c: i for i, c in enumerate(classes)}
    # Auxiliary classes come from the training part only; unseen values are unknown (-100).
    aux_index = {
        t: {
            v: i
            for i, v in enumerate(
                sorted(
                    {str(rows[u][t]) for u in fold.train if u in rows and rows[u][t] is not None}
                )
            )
        }
        for t in aux_tasks
    }
    out: dict[str, dict[str, np.ndarray]] = {}
    for split in ("train", "valid", "test"):
        ids = getattr(fold, split)
        absent = [u for u in ids if u not in rows]
        if absent:
            raise ConfigError(
                f"fold {fold.name!r}: {len(absent)} {split} utterance(s) are not in the "
                f"manifest, e.g. {absent[:3]}"
            )
        bad = [(u, rows[u]["label"]) for u in ids if rows[u]["label"] not in index]
        if bad:
            raise ConfigError(
                f"fold {fold.name!r}: {len(bad)} {split} utterance(s) have labels outside the "
                f"classes {list(classes)}, e.g. {bad[:3]}; apply the label map first"
            )
        out[split] = {"emotion": np.array([index[rows[u]["label"]] for u in ids], dtype=np.int64)}
        for t in aux_tasks:
            out[split][t] = np.array(
                [
                    aux_index[t].get(str(rows[u][t]), IGNORE_INDEX)
                    if rows[u][t] is not None
                    else IGNORE_INDEX
                    for u in ids
                ],
                dtype=np.int64,
            )
    return out, {"emotion": len(classes), **{t: len(v) for t, v in aux_index.items()}}


def _tokens(
    manifest: pl.DataFrame, fold: Fold, ids: Sequence[str], hparams: Mapping[str, Any]
) -> tuple[dict, int]:
    if "transcript" not in manifest.columns:
        raise ConfigError(
            "the model reads transcripts (inputs include 'tokens') but the manifest has no "
            "'transcript' column; use a corpus with transcripts"
        )
    from serbench.features.tokens import Vocabulary

    text = {r["utt_id"]: r["transcript"] or "" for r in _rows(manifest, ["transcript"]).values()}
    max_size = hparams.get("vocab_max_size")
    vocab = Vocabulary(
        min_count=int(hparams.get("vocab_min_count", 1)),
        max_size=None if max_size is None else int(max_size),
    ).build(text[u] for u in fold.train)  # fitted on the training fold only, never on test text
    return {u: list(vocab.encode(text[u])) for u in ids}, len(vocab)


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """The weights as a plain state dict, the rest as JSON (see serbench.training.checkpoint)."""
    from serbench.training.checkpoint import save_checkpoint

    meta = {k: v for k, v in payload.items() if k != "state_dict"}
    save_checkpoint(path, payload["state_dict"], meta)


def run_fold(
    model: ModelSpec,
    hparams: Mapping[str, Any],
    fold: Fold,
    manifest: pl.DataFrame,
    features: FeatureLookup,
    classes: Sequence[str],
    *,
    seed: int,
    device: str = "auto",
    callbacks: Sequence[EpochCallback] = (),
    progress: Any | None = None,
    checkpoint: Path | None = None,
    context_manifest: pl.DataFrame | None = None,
) -> FoldOutcome:
    """Train and test one model on one fold.

    Args:
        model: the registered spec (builder, framework, inputs, task weights).
        hparams: the resolved hyperparameters (defaults + variant + overrides); the
            builder gets all of them, the trainer picks :class:`TrainingConfig`'s keys.
        fold: train/valid/test utterance ids.
        manifest: the experiment manifest (``label`` holds class names of ``classes``
            for every fold utterance).
        features: the feature table (``table[utt_id]``, ``.level``, ``.dim``, ``.names``).
        classes: emotion class names, in index order.
        seed: seeds Python, NumPy and torch, and the batch order.
        device: ``auto``, ``cpu`` or ``cuda``.
        callbacks: ``callback(epoch, metrics)`` after each epoch (torch models).
        progress: a ``rich.progress.Progress`` for the epoch bar.
        checkpoint: where to save the best weights (torch models): a plain state dict,
            with ``{"model", "version", "input_spec", "hparams"}`` in JSON beside it
            (:mod:`serbench.training.checkpoint`).
        (hparams ``vocab_min_count``/``vocab_max_size`` shape the transcript vocabulary of
        models reading ``tokens``; ``allow_empty_context`` lets a context model run on a
        corpus without dialogues.)
        context_manifest: the full corpus manifest, for models reading dialogue context
            (context turns may lie outside the experiment's classes); defaults to
            ``manifest``.
    """
    from serbench.training.device import resolve_device
    from serbench.training.seeding import seed_everything

    if not fold.test:
        raise ConfigError(f"fold {fold.name!r} has no test utterances; check the protocol")
    if not fold.train:
        raise ConfigError(f"fold {fold.name!r} has no training utterances; check the protocol")
    fold.check_disjoint()
    level = getattr(features, "level", "frames")
    if model.level in ("frames", "functionals") and level != model.level:
        raise ConfigError(
            f"model {model.name!r} reads {model.level} but the feature table holds {level}; "
            f"choose a {model.level}-level feature (its default is {model.default_feature!r})"
        )
    waveform = model.level == "waveform"
    if waveform and tuple(getattr(features, "names", ()) or ()) != WAVEFORM_NAMES:
        raise ConfigError(f"model {model.name!r} reads waveform but the feature table holds "
                          f"{level} features; use --feature waveform")
    config = TrainingConfig.from_hparams(hparams)
    weights = {**dict(model.task_weights), **dict(config.task_weights)}
    aux_tasks = sorted(t for t in weights if t != "emotion")
    targets, task_sizes = _targets(manifest, fold, classes, aux_tasks)
    torch_device = resolve_device(device)
    seed_everything(seed)
    feature_names = tuple(getattr(features, "names", ()) or ())
    dim = int(getattr(features, "dim", 0) or np.shape(features[fold.train[0]])[-1])
    spec = InputSpec(
        feature_dim=dim,
        num_classes=len(classes),
        level="waveform" if waveform else "functionals" if level == "functionals" else "frames",
        feature_names=feature_names,
        tasks=task_sizes,
        classes=tuple(classes),
        sample_rate=model_sample_rate(hparams) if waveform else None,
    )
    if model.framework == "sklearn":
        from serbench.training.sklearn_runner import run_sklearn_fold

        return run_sklearn_fold(model, hparams, fold, features, spec, targets, torch_device)
    from serbench.training.fold_torch import run_torch_fold

    tokens = vocab_size = None
    if "tokens" in model.inputs:
        tokens, vocab_size = _tokens(
            manifest, fold, [*fold.train, *fold.valid, *fold.test], hparams
        )
        spec = InputSpec(**{**asdict(spec), "vocab_size": vocab_size})
    context = None
    if "context" in model.inputs:
        from serbench.data.context import context_lookup

        context = context_lookup(
            context_manifest if context_manifest is not None else manifest,
            [*fold.train, *fold.valid, *fold.test],
            allow_empty_context=bool(hparams.get("allow_empty_context", False)),
            model=f"model {model.name!r}",
        )
    return run_torch_fold(
        model,
        hparams,
        config,
        fold,
        features,
        spec,
        targets,
        device=torch_device,
        seed=seed,
        context=context,
        tokens=tokens,
        callbacks=callbacks,
        progress=progress,
        checkpoint=checkpoint,
        save=_save_checkpoint,
        speaker_of=(dict(zip(manifest["utt_id"].to_list(),
                             manifest["speaker"].cast(pl.String).to_list(), strict=True))
                    if config.inner_folds else None),
    )
