"""``serbench predict``: emotion class probabilities of new recordings from a finished run.

Each file's features are extracted as the run extracted them
(:mod:`serbench.inference.audio_features`), normalised as each model was trained
(below), and run through every fold's model; the prediction is the mean of the models'
class probabilities (the fold ensemble) and its arg-max. When ``serbench refit`` has
written ``refit/model.pt`` that one model is used instead (unless folds are named).

Normalisation of a new recording, by the run's mode:

- ``none``, ``utterance``: as in training (nothing, or the file's own frames);
- ``global``: each fold model's own training statistics (``normalisation_<fold>.npz``);
- ``speaker``: the recording's speaker was never seen, so its statistics are unknown.
  ``speaker_stats="training"`` (the default) uses the fold's training utterances' pooled
  statistics; ``"files"`` treats all the given files as one speaker and uses their joint
  statistics, which reproduces training exactly when they are one speaker's recordings
  (and needs several of them: one functionals vector has no spread).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from serbench.errors import ConfigError

SPEAKER_STATS = ("training", "files")


@dataclass
class FilePrediction:
    """One file's outcome: its path as given, the predicted label, class -> probability."""

    path: str
    label: str
    probabilities: dict[str, float]


@dataclass
class Predictions:
    """What :func:`predict_files` returns.

    Attributes:
        run_id: the run used.
        classes: class names, in the models' output order.
        models: the folds whose models were averaged (``["refit"]`` for a refitted model).
        normalisation: a sentence saying how features were normalised.
        rows: one :class:`FilePrediction` per readable file, in input order.
        failed: path -> why, for every file that could not be used.
    """

    run_id: str
    classes: list[str]
    models: list[str]
    normalisation: str
    rows: list[FilePrediction] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _pad(arrays: Sequence[np.ndarray], frames: bool) -> tuple[Any, Any]:
    """(x, lengths): (B, T, D) zero-padded frames or (B, D) functionals; lengths (B,)."""
    import torch

    if not frames:
        return torch.from_numpy(np.stack(arrays)), torch.ones(len(arrays), dtype=torch.long)
    lengths = torch.tensor([a.shape[0] for a in arrays], dtype=torch.long)
    x = torch.zeros(len(arrays), int(lengths.max()), arrays[0].shape[1])
    for b, a in enumerate(arrays):
        x[b, : a.shape[0]] = torch.from_numpy(a)
    return x, lengths


def normalised_inputs(table: Any, mode: str, stats: Any, ids: Sequence[str]) -> list[np.ndarray]:
    """The features of ``ids`` as the model expects them: float32 (T, D) or (D,).

    Args:
        table: the raw features of the files (:class:`FeatureTable`).
        mode: the run's normalisation mode.
        stats: a :class:`~serbench.inference.statistics.FoldStatistics` (``global`` and
            ``speaker``; None otherwise).
        ids: the files, in order.
    """
    import polars as pl

    from serbench.features.normalise import normalise

    if mode in ("none", "utterance"):
        table = normalise(table, pl.DataFrame(), mode, [])
        return [np.asarray(table[u], dtype=np.float32) for u in ids]
    return [stats.apply(np.asarray(table.raw(u), dtype=np.float64)) for u in ids]


def predict_files(
    run: str | Path, inputs: Sequence[str | Path], *, runs_dir: Path | None = None,
    registry: Any = None, folds: Sequence[str] | None = None, speaker_stats: str = "training",
    use_refit: bool = True, batch_size: int = 16,
) -> Predictions:
    """Predict the emotion of each audio file in ``inputs`` with run ``run``'s models.

    Args:
        run: a run id (or unique prefix), a run folder or its record.json.
        inputs: audio files and folders (a folder stands for its audio files).
        runs_dir: root of run folders (default ``SERBENCH_RUNS`` or ``./runs``).
        registry: the installed plugins (default: :func:`serbench.plugins.get_registry`).
        folds: only these folds' models (default: all, or the refitted model).
        speaker_stats: ``training`` or ``files``, for runs with speaker normalisation.
        use_refit: use ``refit/model.pt`` when present.
        batch_size: files per forward pass.
    Raises:
        ConfigError: bad arguments or an unusable run, before any file is read.
    """
    import torch

    from serbench.features.normalise import fit_statistics
    from serbench.inference.audio_features import audio_files, extract_files, recipe_of
    from serbench.inference.fold_models import check_usable, load_models, run_summary
    from serbench.inference.statistics import FoldStatistics, load_fold_statistics
    from serbench.inference.wrapper import TensorModel
    from serbench.plugins import get_registry

    if speaker_stats not in SPEAKER_STATS:
        raise ConfigError(f"speaker_stats {speaker_stats!r}: choose one of {SPEAKER_STATS}")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
    registry = registry or get_registry()
    folder, config, record = run_summary(run, runs_dir)
    spec = check_usable(record, registry)
    recipe = recipe_of(config, registry)
    files = audio_files(inputs)
    if recipe.normalisation == "speaker" and speaker_stats == "files" and len(files) < 2:
        raise ConfigError("--speaker-stats files takes the statistics of the given files as "
                          "one speaker's; give several recordings of the speaker, or use "
                          "--speaker-stats training")
    models = load_models(folder, record, spec, folds, use_refit=use_refit)
    classes = list(record["corpus"]["classes"])
    mode = recipe.normalisation
    note = {"none": "none", "utterance": "each file's own frames (as in training)",
            "global": "each model's training statistics (as in training)",
            "speaker": ("speaker: the recordings' speaker is unknown; each model's training "
                        "utterances' pooled statistics are used" if speaker_stats == "training"
                        else "speaker: all given files taken as one speaker (their joint "
                             "statistics)")}[mode]
    out = Predictions(folder.run_id, classes, [m.fold for m in models], note)
    extracted = extract_files(files, recipe, registry)
    out.failed = extracted.failed
    table = extracted.table
    if table is None:
        return out
    ids = table.ids
    joint = None
    if mode == "speaker" and speaker_stats == "files":
        mean, std = fit_statistics(table, ids)
        joint = FoldStatistics("speaker", mean, std, len(ids))
    total = np.zeros((len(ids), len(classes)))
    for model in models:
        stats = None
        if mode in ("global", "speaker"):
            stats = joint or load_fold_statistics(
                folder.root if model.fold != "refit" else folder.root / "refit", model.fold,
                table.dim)
        inputs_ = normalised_inputs(table, mode, stats, ids)
        # a waveform model reads the (N, 1) frames of the waveform feature as (B, N)
        wrapped = TensorModel(model.net, model.meta["input_spec"].get("level", table.level)).eval()
        with torch.no_grad():
            for start in range(0, len(ids), batch_size):
                x, lengths = _pad(inputs_[start:start + batch_size], table.level == "frames")
                total[start:start + batch_size] += wrapped(x, lengths).double().numpy()
    mean_probs = total / len(models)
    for utt, probs in zip(ids, mean_probs, strict=True):
        out.rows.append(FilePrediction(utt, classes[int(probs.argmax())],
                                       {c: float(p) for c, p in zip(classes, probs, strict=True)}))
    order = {str(f): i for i, f in enumerate(files)}
    out.rows.sort(key=lambda r: order.get(r.path, 0))
    return out
