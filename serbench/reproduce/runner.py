"""Run every row of a reproduction on one split, seed by seed, then fuse ``A+B`` rows.

The library call behind ``serbench reproduce`` (:func:`reproduce`); tests use it directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serbench.errors import ConfigError
from serbench.plugins import Registry
from serbench.reproduce.plan import Plan, plan_runs
from serbench.reproduce.splits import check_one_split, row_config, shared_settings
from serbench.run.config import RunConfig


@dataclass
class Reproduction:
    """What :func:`reproduce` made: the plan, each row's records (one per seed), each
    row's feature note and the split hash of each seed."""

    plan: Plan
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    splits: dict[int, str] = field(default_factory=dict)


def overrides_per_model(plan: Plan, sets: Mapping[str, Any], registry: Registry
                        ) -> dict[str, dict[str, Any]]:
    """``--set`` values split by the models that have them.

    Raises:
        ConfigError: a name no model of the reproduction has, listing the known ones.
    """
    from serbench.run.model_hparams import known_hyperparameters

    known = {p.model: known_hyperparameters(registry.model(p.model)) for p in plan.runs
             if p.model is not None}
    unused = sorted(k for k in sets if not any(k in names for names in known.values()))
    if unused:
        raise ConfigError(
            f"--set {', '.join(unused)}: no model of this reproduction has such a "
            f"hyperparameter; known: {', '.join(sorted(set().union(*known.values())))}")
    return {model: {k: v for k, v in sets.items() if k in names} for model, names in
            known.items()}


def reproduce(model: str, base: RunConfig, *, registry: Registry, seeds: Sequence[int] = (0,),
              only: Sequence[str] | None = None, progress: bool = False, console: Any = None,
              min_per_class: int | None = None,
              features: Mapping[str, Any] | None = None) -> Reproduction:
    """Run every row of ``model``'s paper tables on one split per seed.

    Args:
        model: the reproduced model.
        base: the user's settings; ``model``/``variant``/``seed`` are replaced per row,
            ``overrides`` are applied to each model that has them, ``resume`` only to
            rows whose run folder exists (the others start).
        seeds: one run of every row per seed.
        only: restrict to these rows (``--variants``).
        min_per_class: fusion rows' minimum of validation utterances per class (None:
            :data:`serbench.run.fusion_fit.MIN_PER_CLASS`).
        features: already loaded feature tables by feature name (tests; rows whose
            feature is not in it read the feature cache).
    Raises:
        ConfigError: bad input (before any training), or records of one seed that do not
            share one split hash (:func:`check_one_split`).
    """
    from serbench.run.fusion import MIN_PER_CLASS, fuse_runs
    from serbench.run.pipeline import run_experiment, run_folder_for

    spec = registry.model(model)
    plan = plan_runs(spec, registry, only)
    if not plan.runs:
        raise ConfigError(f"reproduce {model}: no row to run")
    sets = overrides_per_model(plan, base.overrides, registry)
    out = Reproduction(plan)
    for seed in seeds:
        # the reproduced model's own settings, whichever rows --variants keeps
        shared = shared_settings(dataclasses.replace(
            base, model=model, variant=None, seed=seed, overrides={}), registry)
        by_seed: dict[str, dict[str, Any]] = {}
        for row in plan.runs:
            assert row.model is not None
            config, note = row_config(dataclasses.replace(
                base, seed=seed, overrides=sets[row.model], resume=False), row.model,
                row.variant, shared, registry)
            if base.resume and run_folder_for(config, registry=registry).exists():
                config = dataclasses.replace(config, resume=True)
            if console is not None:
                console.rule(f"{row.model}" + (f" · variant {row.variant}" if row.variant
                                               else "") + f" · seed {seed}")
            by_seed[row.label] = run_experiment(
                config, registry=registry, progress=progress, console=console,
                features=(features or {}).get(config.feature or ""))
            out.notes[row.label] = note
        check_one_split(by_seed)  # before fusing: a fusion needs one split too
        root = Path(base.runs_dir) if base.runs_dir else None
        for fusion in plan.fusions:
            from serbench import paths
            from serbench.run.folder import RunFolder

            runs_root = root or paths.runs_dir()
            a, b = (by_seed[label] for label in fusion.label.split("+"))
            by_seed[fusion.label] = fuse_runs(
                RunFolder(runs_root / a["run_id"]), RunFolder(runs_root / b["run_id"]),
                runs_dir=runs_root, force=True,
                min_per_class=MIN_PER_CLASS if min_per_class is None else min_per_class)
        out.splits[seed] = check_one_split(by_seed)
        for label, record in by_seed.items():
            out.records.setdefault(label, []).append(record)
    return out
