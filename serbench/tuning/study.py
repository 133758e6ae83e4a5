"""``tune()``: one Optuna study over a model's search space, from set-up to summary.

    result = tune(TuneConfig(run=RunConfig(model="ar_gru", max_epochs=4), trials=20))

Everything is checked before the first trial: the run configuration
(:func:`serbench.run.resolve.resolve_run`), the search space and its overrides, the
objectives, the storage URL, and (for an existing study) that the study was made with
the same model, data, space and objectives. Features are loaded once and shared by all
trials. ``trials`` is the study's target number of finished (complete or pruned)
trials, whichever worker finished them: N workers running the same command stop when
the study holds ``trials`` (a worker mid-trial at that moment still finishes its trial,
so a shared study may end up to ``workers - 1`` over). Running the command again
resumes a study up to its target.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import TrialState

from serbench.errors import ConfigError
from serbench.plugins import Registry, get_registry
from serbench.run.config import RunConfig
from serbench.tuning import space as spaces
from serbench.tuning.inner import InnerSplit, inner_splits
from serbench.tuning.objective import Objective, epoch_stride, objective_directions
from serbench.tuning.samplers import make_pruner, make_sampler, sampler_seed
from serbench.tuning.storage import (
    HEARTBEAT,
    check_study_attrs,
    default_url,
    open_storage,
    redact,
    studies_dir,
)

#: trials when neither --trials nor a grid says how many
DEFAULT_TRIALS = 20
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class TuneConfig:
    """One ``serbench tune`` invocation.

    Attributes:
        run: the run configuration tuned (model, corpus, protocol, ``--set``,
            ``max_epochs``: the reduced epoch budget of every trial, seed, device).
        trials: target number of finished trials in the study (None: grid size or 20).
        timeout: stop starting trials after this many seconds.
        study: study name (None: ``<model>[-<variant>]-<corpus>-<protocol>-<objectives>``).
        storage: database URL (None: ``sqlite:///<runs>/studies/<study>.db``).
        sampler, pruner: see :mod:`serbench.tuning.samplers`.
        objectives, directions: see :mod:`serbench.tuning.objective`.
        space_overrides: ``{name: distribution or None (drop)}`` over the model's space.
        grid: a named grid of the model (implies ``sampler="grid"``).
        inner_folds: how many outer folds give an inner split per trial.
        heartbeat: seconds between heartbeats of a running trial.
        enqueue_defaults: run the model's (variant's) defaults as the first trial.
        plots: write PNG plots at the end.
    """

    run: RunConfig
    trials: int | None = None
    timeout: float | None = None
    study: str | None = None
    storage: str | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    objectives: tuple[str, ...] = ("ua",)
    directions: tuple[str, ...] = ()
    space_overrides: Mapping[str, BaseDistribution | None] = field(default_factory=dict)
    grid: str | None = None
    inner_folds: int = 1
    heartbeat: int = HEARTBEAT
    enqueue_defaults: bool = True
    plots: bool = True


@dataclass
class Prepared:
    """A checked study set-up (nothing trained yet)."""

    config: TuneConfig
    resolved: Any
    space: dict[str, BaseDistribution]
    space_json: dict[str, str]
    space_origin: str
    grid: dict[str, list[Any]] | None
    sampler: str
    objectives: list[str]
    directions: list[str]
    study_name: str
    url: str
    target: int


@dataclass
class TuneResult:
    study: optuna.Study
    url: str
    summary: dict[str, Any]
    folder: Path
    plots: list[Path] = field(default_factory=list)
    skipped_plots: dict[str, str] = field(default_factory=dict)
    features: Any = None


def study_name(resolved: Any, objectives: list[str]) -> str:
    parts = [resolved.spec.name] + ([resolved.variant] if resolved.variant else [])
    parts += [resolved.corpus_entry.spec.name, resolved.protocol_entry.spec.name,
              "+".join(objectives)]
    return "-".join(parts)


def effective_space(spec: Any, config: TuneConfig, sampler: str):
    """(space, origin, grid, sampler) after overrides and grid selection."""
    from serbench.run.model_hparams import known_hyperparameters

    grid_name = config.grid
    if sampler == "grid" and grid_name is None:
        if len(spec.grids) != 1:
            known = ", ".join(sorted(spec.grids)) or "none"
            raise ConfigError(f"--sampler grid: name the grid with --grid (model "
                              f"{spec.name!r} has grids: {known})")
        grid_name = next(iter(spec.grids))
    if grid_name is not None:
        if config.space_overrides:
            raise ConfigError("--grid and --space exclude each other: a grid fixes the values")
        if sampler not in ("tpe", "grid"):
            raise ConfigError(f"--grid runs with the grid sampler, not --sampler {sampler}")
        grid = spaces.grid_space(spec, grid_name)
        unknown = sorted(set(grid) - known_hyperparameters(spec))
        if unknown:
            raise ConfigError(f"grid {grid_name!r}: {unknown} are not hyperparameters of "
                              f"model {spec.name!r}")
        return spaces.grid_as_space(grid), f"grid {grid_name}", grid, "grid"
    space, origin = spaces.model_space(spec)
    if config.space_overrides:
        from serbench.hyperparameters import space_problems

        space = spaces.apply_overrides(space, config.space_overrides,
                                       known_hyperparameters(spec), spec.name)
        bad = space_problems(spec, config.space_overrides)
        if bad:
            raise ConfigError("--space: " + "\n  ".join(bad) + "\nNarrow the range to "
                              "values the model accepts.")
        origin += " + overrides"
    return space, origin, None, sampler


def prepare(config: TuneConfig, registry: Registry) -> Prepared:
    """Every check that needs no training: run config, space, objectives, study name."""
    from serbench.run.resolve import resolve_run

    if config.trials is not None and config.trials < 1:
        raise ConfigError(f"--trials must be >= 1, got {config.trials}")
    resolved = resolve_run(config.run, registry)
    space, origin, grid, sampler = effective_space(resolved.spec, config, config.sampler)
    objectives = list(config.objectives)
    directions = objective_directions(objectives, config.directions, registry)
    name = config.study or study_name(resolved, objectives)
    if not re.fullmatch(r"[A-Za-z0-9_.+\-]+", name):
        raise ConfigError(f"--study {name!r}: use letters, digits, '.', '_', '+' or '-'")
    url = config.storage or default_url(name, config.run.runs_dir)
    target = config.trials
    if target is None:
        target = DEFAULT_TRIALS
        if grid is not None:
            target = 1
            for values in grid.values():
                target *= len(values)
    return Prepared(config=config, resolved=resolved, space=space,
                    space_json=spaces.space_to_json(space), space_origin=origin, grid=grid,
                    sampler=sampler, objectives=objectives, directions=directions,
                    study_name=name, url=url, target=target)


def study_attrs(prep: Prepared) -> dict[str, Any]:
    """What a study is bound to: checked by every later worker and resume."""
    res = prep.resolved
    return {
        "model": {"name": res.spec.name, "version": res.spec.version, "variant": res.variant},
        "corpus": {"name": res.corpus_entry.spec.name, "fingerprint": res.fingerprint,
                   "label_map": res.label_map},
        "protocol": {"name": res.protocol_entry.spec.name, "split_hash": res.split_hash},
        "feature": {"name": res.feature_entry.spec.name, "params": res.feature_params,
                    "normalisation": res.normalisation},
        "objectives": prep.objectives,
        "search_space": prep.space_json,
        "base_hyperparameters": _plain(res.hparams),
        "inner_folds": prep.config.inner_folds,
        "seed": prep.config.run.seed,
    }


def open_study(prep: Prepared) -> tuple[optuna.Study, int]:
    """Create or load the study (shared by name), check it matches ``prep``; returns it
    with this process's sampler seed (:func:`serbench.tuning.samplers.sampler_seed`)."""
    cfg = prep.config
    storage = open_storage(prep.url, heartbeat=cfg.heartbeat)
    multi = len(prep.directions) > 1
    prune = cfg.pruner != "none" and not multi and prep.directions[0] == "maximize"
    stride = epoch_stride(prep.space, prep.resolved.hparams)
    pruner = make_pruner(cfg.pruner if prune else "none", max_steps=stride * cfg.inner_folds)
    try:
        existing = {s.study_name: s for s in optuna.get_all_study_summaries(storage)}
    except Exception as exc:  # noqa: BLE001 - driver errors surface here on some backends
        raise ConfigError(f"--storage {redact(prep.url)}: cannot read studies ({exc})") from None
    joined_at = 0
    if prep.study_name in existing:
        stored = [d.name.lower() for d in existing[prep.study_name].directions]
        if stored != prep.directions:
            raise ConfigError(
                f"study {prep.study_name!r} optimises {stored}, not {prep.directions}; "
                "use the study's objectives/directions or a new --study name")
        joined_at = existing[prep.study_name].n_trials
    # a resume (more trials held) draws new points rather than replaying the first ones
    seed = sampler_seed(cfg.run.seed, prep.study_name, joined_at, shared=cfg.storage is not None)
    sampler = make_sampler(prep.sampler, n_objectives=len(prep.directions), grid=prep.grid,
                           seed=seed)
    study = optuna.create_study(storage=storage, sampler=sampler, pruner=pruner,
                                study_name=prep.study_name, directions=prep.directions,
                                load_if_exists=True)
    check_study_attrs(study, study_attrs(prep), prep.url)
    return study, seed


def enqueue_defaults(study: optuna.Study, prep: Prepared) -> dict[str, Any] | None:
    """Queue the model's defaults (those inside the space) as the study's first trial.

    Not for grids: a grid is exhaustive (the defaults run if they are a grid point), and
    Optuna's GridSampler would not count an enqueued trial as its grid point.
    """
    if prep.grid is not None or study.get_trials(deepcopy=False):
        return None
    params = {name: prep.resolved.hparams[name] for name, dist in prep.space.items()
              if name in prep.resolved.hparams
              and spaces.contains(dist, prep.resolved.hparams[name])}
    if not params:
        return None
    study.enqueue_trial(params, user_attrs={"origin": defaults_origin(prep, params)},
                        skip_if_exists=True)
    return params


def defaults_origin(prep: Prepared, params: dict[str, Any]) -> str:
    """Where the first trial's values come from, e.g. ``"paper defaults + variant iaan"``:
    "paper" only for a model that cites one, "model" otherwise; ``--set`` values named."""
    spec = prep.resolved.spec
    parts = ["paper defaults" if spec.citation else "model defaults"]
    if prep.resolved.variant:
        parts.append(f"variant {prep.resolved.variant}")
    fixed = sorted(set(prep.config.run.overrides) & set(params))
    if fixed:
        parts.append(f"--set {', '.join(fixed)}")
    return " + ".join(parts)


def load_trial_data(prep: Prepared, registry: Registry, features: Any = None,
                    progress: bool = True) -> tuple[Any, list[InnerSplit]]:
    """Load the features once (returned, for ``--evaluate-best``) and cut the inner
    splits, the outer test ids left out."""
    res = prep.resolved
    context = "context" in res.spec.inputs
    if features is None:
        from serbench.features.cache import load_features

        features = load_features(
            res.corpus.manifest if context else res.manifest, res.feature_entry.spec.name,
            params=res.feature_params, fingerprint=res.fingerprint, registry=registry,
            progress=progress)
    excluded = set(features.info().get("excluded", {}) or {})
    manifest = res.manifest
    if excluded:  # utterances whose features could not be extracted take no part
        import polars as pl

        manifest = manifest.filter(~pl.col("utt_id").is_in(sorted(excluded)))
    return features, inner_splits(
        manifest, res.folds, n=prep.config.inner_folds, seed=res.config.seed,
        features=features, normalisation=res.normalisation,
        context_manifest=res.corpus.manifest if context else None)


def _progress(console: Any, enabled: bool):
    if not enabled or console is None:
        return nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def tune(config: TuneConfig, *, registry: Registry | None = None, console: Any = None,
         progress: bool = True, features: Any = None) -> TuneResult:
    """Run (or resume, or join) a study and summarise it; see the module docstring."""
    from serbench.tuning.report import (
        counts,
        format_value,
        print_summary,
        save_summary,
        summarise,
    )

    registry = registry or get_registry()
    prep = prepare(config, registry)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own progress and summary
    study, seed = open_study(prep)
    with warnings.catch_warnings():  # experimental in Optuna 5; optuna-dashboard reads it
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(prep.objectives))
    features, splits = load_trial_data(prep, registry, features=features, progress=progress)
    if console is not None:
        for split in splits:
            if not split.speaker_disjoint:
                console.print(f"[yellow]warning[/]: inner split {split.fold.name!r} is not "
                              "speaker-disjoint (too few speakers); scores are optimistic")
    study.set_user_attr("inner_splits", [s.describe() for s in splits])
    if config.enqueue_defaults:
        enqueue_defaults(study, prep)
    multi = len(prep.directions) > 1
    if console is not None and config.pruner != "none" and (
            multi or prep.directions[0] != "maximize"):
        console.print(f"note: --pruner {config.pruner} is off: Optuna prunes only a single "
                      "objective, and serbench reports validation UA (to maximise)")
    objective = Objective(
        spec=prep.resolved.spec, hparams=prep.resolved.hparams, space=prep.space,
        splits=splits, classes=prep.resolved.classes, objectives=prep.objectives,
        seed=config.run.seed, device=prep.resolved.device, registry=registry,
        prune=config.pruner != "none" and not multi and prep.directions[0] == "maximize",
        space_json=prep.space_json, sampler_seed=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a crashed worker's trial, on resume
    finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    remaining = prep.target - finished
    if remaining > 0:
        with _progress(console, progress) as bars:
            task = bars.add_task(f"trials ({prep.study_name})", total=prep.target,
                                 completed=finished) if bars is not None else None

            def on_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
                if bars is None:
                    return
                done = len(study.get_trials(deepcopy=False, states=FINISHED))
                best = ""
                if not multi and any(t.state == TrialState.COMPLETE
                                     for t in study.get_trials(deepcopy=False)):
                    best = f" best {prep.objectives[0]} " + format_value(
                        prep.objectives[0], study.best_value)
                bars.update(task, completed=min(done, prep.target),
                            description=f"trials ({prep.study_name}){best}")

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.optimize(
                    objective, n_trials=remaining, timeout=config.timeout,
                    catch=(Exception,),
                    callbacks=[optuna.study.MaxTrialsCallback(prep.target, states=FINISHED),
                               on_trial],
                )
    elif console is not None:
        console.print(f"study {prep.study_name!r} already has {finished} finished trial(s) "
                      f"(target {prep.target}); raise --trials to run more")
    folder = studies_dir(config.run.runs_dir) / prep.study_name
    summary = summarise(study, redact(prep.url))
    summary["counts"] = counts(study)
    save_summary(summary, folder)
    plots, skipped = [], {}
    if config.plots:
        from serbench.tuning.plots import save_plots

        pair = list(prep.grid) if prep.grid and len(prep.grid) == 2 else None
        if pair is None:
            grids = [list(g) for g in prep.resolved.spec.grids.values() if len(g) == 2]
            pair = grids[0] if grids and set(grids[0]) <= set(prep.space) else None
        plots, skipped = save_plots(study, folder / "plots", objectives=prep.objectives,
                                    pair=pair)
    if console is not None:
        print_summary(summary, console, plots)
    return TuneResult(study=study, url=prep.url, summary=summary, folder=folder, plots=plots,
                      skipped_plots=skipped, features=features)


def _plain(value: Any) -> Any:
    from serbench.tuning.objective import _jsonable

    return _jsonable(value)
