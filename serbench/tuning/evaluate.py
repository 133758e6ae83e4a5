"""``--evaluate-best``: the best trial's configuration on the full outer protocol.

The best trial (single objective: ``study.best_trial``; multi-objective: the Pareto
trial best on the first objective) is re-run through
:func:`serbench.run.pipeline.run_experiment` with its parameters as ``--set`` overrides
and the same epoch budget the trials had, so the configuration is tested under the
conditions it was chosen under. The run record's ``tuning`` field says which study,
storage, trial, objective and value chose it (docs/run-record.md). Only this run ever
touches the outer test folds.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from serbench.errors import ConfigError
from serbench.run.config import RunConfig
from serbench.tuning.storage import redact


def best_trial(study: optuna.Study) -> FrozenTrial:
    """The trial to evaluate; a study without a complete trial is a ConfigError."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise ConfigError(f"study {study.study_name!r} has no complete trial to evaluate; run "
                          "more trials first")
    if len(study.directions) == 1:
        return study.best_trial
    maximise = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    front = study.best_trials
    return (max if maximise else min)(front, key=lambda t: t.values[0])


def tuning_provenance(study: optuna.Study, trial: FrozenTrial, url: str) -> dict[str, Any]:
    """The record's ``tuning`` field (plus the search space the study sampled from)."""
    objectives = study.user_attrs.get("objectives") or ["objective"]
    return {
        "study": study.study_name, "storage": redact(url), "trial": trial.number,
        "objective": objectives[0], "value": trial.values[0],
        "search_space": study.user_attrs.get("search_space"),
    }


def evaluate_best(study: optuna.Study, run: RunConfig, url: str, *, registry: Any = None,
                  progress: bool = True, console: Any = None,
                  command: list[str] | None = None, features: Any = None,
                  leaderboard: Path | None = None) -> tuple[dict[str, Any], Any]:
    """Run the best configuration on every outer fold; returns (record, leaderboard result).

    ``leaderboard``: a leaderboards root folder to add the run to (None: do not add).
    """
    from serbench.run.pipeline import run_experiment

    trial = best_trial(study)
    overrides = {**dict(run.overrides), **trial.params}
    config = dataclasses.replace(run, overrides=overrides,
                                 tuning=tuning_provenance(study, trial, url))
    record = run_experiment(config, registry=registry, progress=progress, console=console,
                            command=command, features=features)
    added = None
    if leaderboard is not None:
        from serbench import paths
        from serbench.leaderboard.store import add_runs

        root = Path(run.runs_dir).expanduser() if run.runs_dir else paths.runs_dir()
        added = add_runs([root / record["run_id"] / "record.json"], leaderboard)
    return record, added
