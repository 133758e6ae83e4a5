"""Run one experiment: resolve, fold loop with resume, predictions, the run record.

    record = run_experiment(RunConfig(model="bilstm_att", corpus="manifest", data="c.csv",
                                      protocol="loso-speaker"))

writes ``runs/<run_id>/`` (docs/run-record.md) and returns the record. Bad input stops
in :func:`serbench.run.resolve.resolve_run`, before any feature is extracted or any
weight trained. A finished fold is on disk the moment it ends, so Ctrl-C loses at most
the fold in progress; ``--resume`` runs only the folds that are missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.markup import escape

from serbench import paths
from serbench.errors import ConfigError
from serbench.plugins import Registry, get_registry
from serbench.protocols.base import Fold
from serbench.run.config import RunConfig
from serbench.run.environment import command_line
from serbench.run.folder import (
    RunFolder,
    atomic_write_json,
    atomic_write_parquet,
    describe_differences,
    similar_runs,
)
from serbench.run.lock import run_lock
from serbench.run.predictions import fold_predictions, fold_valid_predictions, label_indices
from serbench.run.record import (
    build_record,
    config_document,
    fold_entry,
    identity,
    make_run_id,
    now_iso,
    run_prefix,
)
from serbench.run.resolve import Resolved, resolve_run

__all__ = ["RunConfig", "RunInterrupted", "run_experiment", "run_folder_for"]

#: called with the finished fold's entry (``folds/<fold>.json`` content)
FoldCallback = Callable[[Mapping[str, Any]], None]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a callback's KeyboardInterrupt) during a run; finished folds are on disk."""

    def __init__(self, run_dir: Path, done: int, total: int, resume_command: str):
        self.run_dir, self.done, self.total = run_dir, done, total
        self.resume_command = resume_command
        super().__init__(
            f"Run interrupted after {done} of {total} fold(s); the finished folds are in "
            f"{run_dir / 'folds'}. Resume with:\n  {resume_command}"
        )


def _resume_command(command: Sequence[str]) -> str:
    parts = [p for p in command if p != "--force"]
    if "--resume" not in parts:
        parts.append("--resume")
    return " ".join(parts)


def run_folder_for(config: RunConfig, *, registry: Registry | None = None) -> RunFolder:
    """The folder a configuration's run writes to (resolves the config; trains nothing)."""
    res = resolve_run(config, registry or get_registry())
    return RunFolder(_runs_root(config) / make_run_id(res, identity(res)))


def _runs_root(config: RunConfig) -> Path:
    return Path(config.runs_dir).expanduser() if config.runs_dir else paths.runs_dir()


def _say(console: Any, message: str) -> None:
    if console is not None:
        console.print(message)


def _prepare_folder(res: Resolved, root: Path, console: Any) -> tuple[RunFolder, dict | None]:
    """Create, reuse or refuse the run folder; returns (folder, existing complete record)."""
    ident = identity(res)
    folder = RunFolder(root / make_run_id(res, ident))
    config = res.config
    if folder.exists() and config.force:
        _say(console, f"--force: removing the previous run folder {folder.root}")
        folder.clear()
    if folder.is_complete() and not config.force:
        _say(console, f"[bold]This run is already complete[/]: {folder.record_path} "
                      "(not re-run; use --force to run it again).")
        return folder, folder.read_record()
    if folder.exists():
        saved = folder.read_config().get("identity", {})
        differences = describe_differences(saved, ident)
        if differences:
            raise ConfigError(
                f"the run folder {folder.root} was made with another configuration:\n  "
                + "\n  ".join(differences) + "\nUse --force to start it over."
            )
        if not config.resume:
            done = len(folder.completed_folds())
            raise ConfigError(
                f"the run folder {folder.root} exists with {done} of {len(res.folds)} fold(s) "
                "finished. Add --resume to complete it, or --force to start over."
            )
    elif config.resume:
        others = similar_runs(root, run_prefix(res), exclude=folder.run_id)
        if others:
            other = others[0]
            differences = describe_differences(other.read_config().get("identity", {}), ident)
            raise ConfigError(
                f"--resume: no run folder with this configuration ({folder.run_id}). The run "
                f"{other.run_id} differs in:\n  " + "\n  ".join(differences)
                + "\nRepeat that run's arguments to resume it, or drop --resume to start this "
                "configuration as a new run."
            )
        _say(console, f"--resume: nothing to resume for {folder.run_id}; starting it.")
    if not folder.exists():
        folder.write_config(config_document(res, folder.run_id, ident))
    return folder, None


def _progress(enabled: bool, console: Any):
    if not enabled:
        return nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def run_experiment(
    config: RunConfig,
    *,
    registry: Registry | None = None,
    progress: bool = True,
    callbacks: Sequence[Callable[[int, dict], None]] = (),
    fold_callbacks: Sequence[FoldCallback] = (),
    console: Any = None,
    command: Sequence[str] | None = None,
    features: Any = None,
) -> dict:
    """Run (or resume, or report) one experiment and return its run record.

    Args:
        config: what to run.
        registry: the components to use (default: the installed plugins).
        progress: show rich progress bars for folds and epochs.
        callbacks: epoch callbacks passed to every fold's trainer
            (``callback(epoch, metrics)``; may raise to stop, e.g. ``optuna.TrialPruned``).
        fold_callbacks: called with each finished fold's entry.
        console: a ``rich.console.Console`` for messages and bars (None: a default one
            when ``progress``; silent otherwise).
        command: the command line to record (default: ``sys.argv``).
        features: an already loaded feature table for this configuration's feature
            (e.g. reused across Optuna trials); default: read through the feature cache.

    Raises:
        ConfigError / SerbenchError: bad input, before training.
        RunInterrupted: Ctrl-C during the fold loop; finished folds stay on disk.
        RunAlreadyRunning: another process runs this run now (its folder is locked).
    """
    registry = registry or get_registry()
    if console is None and progress:
        from rich.console import Console

        console = Console(stderr=True)
    command = list(command) if command is not None else command_line()
    res = resolve_run(config, registry)
    # one process per run: a second run/--resume of a running one stops, naming its pid
    with run_lock(_runs_root(config) / make_run_id(res, identity(res)), command):
        return _run_locked(res, config, registry=registry, progress=progress,
                           callbacks=callbacks, fold_callbacks=fold_callbacks, console=console,
                           command=command, features=features)


def _run_locked(res: Resolved, config: RunConfig, *, registry: Registry, progress: bool,
                callbacks: Sequence[Callable[[int, dict], None]],
                fold_callbacks: Sequence[FoldCallback], console: Any, command: list[str],
                features: Any) -> dict:
    """:func:`run_experiment` once the run's lock is held."""
    from serbench.features.normalise import normalise
    from serbench.inference.statistics import save_fold_statistics
    from serbench.metrics.api import aggregate, compute_metrics
    from serbench.training.fold import run_fold

    folder, existing = _prepare_folder(res, _runs_root(config), console)
    if existing is not None:
        return existing
    for warning in res.warnings:  # also in the record's "warnings"
        _say(console, f"[yellow]warning:[/] {escape(warning)}")
    if res.sources.get("normalisation", "").startswith("serbench default"):
        # a plugin that forgot `preferred` should see what its features went through
        _say(console, f"normalisation: {res.normalisation} ({escape(res.sources['normalisation'])};"
                      " set `preferred` or --normalisation to choose)")
    created = folder.read_config().get("created") or now_iso()
    done = {name: entry for name, entry in folder.completed_folds().items()
            if name in {f.name for f in res.folds}}
    if done:
        _say(console, f"Resuming {folder.run_id}: {len(done)} of {len(res.folds)} fold(s) "
                      f"already finished ({', '.join(done)}).")
    spec = res.spec
    # models reading dialogue context need the turns outside the experiment's classes too
    feature_manifest = res.corpus.manifest if "context" in spec.inputs else res.manifest
    if features is None and res.cross_corpus is not None:  # each corpus through its own cache
        from serbench.crosscorpus.features import load_joined_features

        features = load_joined_features(res.cross_corpus, res.feature_entry.spec.name,
                                        res.feature_params, registry=registry, progress=progress)
    if features is None:
        from serbench.features.cache import load_features

        features = load_features(
            feature_manifest, res.feature_entry.spec.name, params=res.feature_params,
            fingerprint=res.fingerprint, registry=registry, progress=progress,
        )
    folds = _without_excluded(res.folds, features, console)
    with _progress(progress, console) as bars:
        fold_task = None
        if bars is not None:
            fold_task = bars.add_task(f"folds ({spec.name})", total=len(res.folds),
                                      completed=len(done))
        for fold in folds:
            if fold.name in done:
                continue
            try:
                table = normalise(features, feature_manifest, res.normalisation, fold.train)
                # for predict/export: the statistics this fold's model expects (no pickle)
                save_fold_statistics(folder.root, fold.name, features, res.normalisation,
                                     fold.train)
                outcome = run_fold(
                    spec, res.hparams, fold, res.manifest, table, res.classes,
                    seed=config.seed, device=res.device, callbacks=callbacks, progress=bars,
                    checkpoint=folder.checkpoint_path(fold.name) if spec.framework == "torch"
                    else None,
                    context_manifest=res.corpus.manifest if "context" in spec.inputs else None,
                )
            except KeyboardInterrupt as exc:
                raise RunInterrupted(folder.root, len(done), len(res.folds),
                                     _resume_command(command)) from exc
            metrics = compute_metrics(outcome.y_true, outcome.y_pred, res.classes,
                                      scores=outcome.scores, registry=registry)
            entry = fold_entry(fold, res, outcome, metrics)
            valid_rows = fold_valid_predictions(fold.name, outcome, res.manifest, res.classes)
            if valid_rows is not None:  # before the fold JSON that marks the fold done
                atomic_write_parquet(folder.fold_valid_predictions_path(fold.name), valid_rows)
            folder.write_fold(entry, fold_predictions(fold.name, outcome, res.manifest,
                                                      res.classes))
            done[fold.name] = entry
            for callback in fold_callbacks:
                callback(entry)
            if bars is not None and fold_task is not None:
                bars.advance(fold_task)
    entries = [done[f.name] for f in res.folds]
    predictions = pl.concat([folder.read_fold_predictions(f.name) for f in res.folds])
    y_true, y_pred = label_indices(predictions, res.classes)
    summary = aggregate([e["metrics"] for e in entries], y_true, y_pred, res.classes)
    record = build_record(res, folder.run_id, command=command, created=created, folds=entries,
                          aggregate=summary, features=features, predictions=predictions)
    if res.cross_corpus is not None:  # the pair names the corpus; both fingerprints kept
        from serbench.crosscorpus.record import amend_record

        record = amend_record(record, res.cross_corpus, res.normalisation)
    atomic_write_parquet(folder.predictions_path, predictions)
    valid_parts = [folder.fold_valid_predictions_path(f.name) for f in res.folds]
    if valid_parts and all(p.is_file() for p in valid_parts):
        atomic_write_parquet(folder.valid_predictions_path,
                             pl.concat([pl.read_parquet(p) for p in valid_parts]))
    atomic_write_json(folder.record_path, _plain(record))
    return _plain(record)


def _without_excluded(folds: Sequence[Fold], features: Any, console: Any) -> list[Fold]:
    """Folds without the utterances the feature cache excluded (unreadable audio, a
    descriptor that is never finite); the cache's report says why for each."""
    excluded = dict(features.info().get("excluded", {})) if hasattr(features, "info") else {}
    if not excluded:
        return list(folds)
    _say(console, f"{len(excluded)} utterance(s) excluded by the feature extractor and left "
                  f"out of every fold: " + "; ".join(f"{k} ({v})" for k, v in
                                                      list(excluded.items())[:10]))
    def keep(ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(i for i in ids if i not in excluded)

    return [replace(f, train=keep(f.train), valid=keep(f.valid), test=keep(f.test),
                    note=(f.note + " " if f.note else "") + f"{len(excluded)} excluded by features")
            for f in folds]


def _plain(obj: Any) -> Any:
    """numpy scalars/arrays and tuples to JSON-ready Python values."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj
