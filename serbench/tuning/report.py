"""What a study says at the end: best trials, Pareto front, importances, trial outcomes.

Everything here reads a finished (or paused) study; nothing trains. The same summary
is printed as rich tables and saved as ``<runs>/studies/<study>/summary.json`` (and
``pareto.json`` for multi-objective studies).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

#: FAIL trials without a recorded reason: their worker stopped beating
STALE_REASON = "its worker stopped sending heartbeats (killed or crashed)"

#: fewer complete trials than this and fANOVA importances are mostly noise
MIN_TRIALS_FOR_IMPORTANCE = 10


def format_value(objective: str, value: float | None) -> str:
    """An objective's value as ``serbench run`` prints it: metrics (fractions) in percent,
    costs (``latency_ms``, ``params``, ``train_seconds``) as they are."""
    from serbench.tuning.objective import COSTS

    if value is None:
        return "-"
    if objective in COSTS:
        return f"{value:.4g}"
    return f"{100 * value:.1f}%"


def trial_reason(trial: FrozenTrial) -> str | None:
    """Why a trial did not complete (None for a complete or running one)."""
    if trial.state == TrialState.PRUNED:
        return trial.user_attrs.get("pruned_reason") or "pruned"
    if trial.state == TrialState.FAIL:
        return trial.user_attrs.get("fail_reason") or STALE_REASON
    return None


def _retry_of(trial: FrozenTrial) -> int | None:
    """The failed trial this one re-runs (RetryHeartbeatStaleTrialCallback), if any."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(trial)


def counts(study: optuna.Study) -> dict[str, int]:
    """Trials per state, e.g. ``{"COMPLETE": 18, "PRUNED": 2}``."""
    out: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        out[trial.state.name] = out.get(trial.state.name, 0) + 1
    return out


def best_trials(study: optuna.Study, k: int = 5) -> list[FrozenTrial]:
    """The Pareto front (multi-objective) or the ``k`` best complete trials."""
    if len(study.directions) > 1:
        return sorted(study.best_trials, key=lambda t: t.number)
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.value is not None and math.isfinite(t.value)]
    maximise = study.direction == optuna.study.StudyDirection.MAXIMIZE
    return sorted(done, key=lambda t: t.value, reverse=maximise)[:k]


def importances(study: optuna.Study) -> dict[str, dict[str, float]]:
    """``{objective: {param: importance}}`` (fANOVA); empty when too few trials."""
    names = study.user_attrs.get("objectives") or [f"objective{i}"
                                                   for i in range(len(study.directions))]
    out: dict[str, dict[str, float]] = {}
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        return out
    for i, name in enumerate(names):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = optuna.importance.get_param_importances(
                    study, target=(lambda t, i=i: t.values[i]) if len(names) > 1 else None)
        except (RuntimeError, ValueError, ZeroDivisionError):
            continue  # e.g. every trial had the same parameters
        out[name] = {p: float(v) for p, v in values.items()}
    return out


def trial_summary(trial: FrozenTrial) -> dict[str, Any]:
    """One trial as JSON: number, state, values, params, reason, timing."""
    duration = trial.duration.total_seconds() if trial.duration else None
    return {
        "number": trial.number, "state": trial.state.name,
        "values": list(trial.values) if trial.values else None,
        "params": trial.params, "reason": trial_reason(trial),
        "origin": trial.user_attrs.get("origin"),
        "retry_of": _retry_of(trial),
        "seconds": duration,
    }


def summarise(study: optuna.Study, url: str) -> dict[str, Any]:
    """The study's outcome: counts, best trials / Pareto front, importances, every trial."""
    best = best_trials(study)
    return {
        "study": study.study_name, "storage": url,
        "objectives": study.user_attrs.get("objectives"),
        "directions": [d.name.lower() for d in study.directions],
        "counts": counts(study),
        "best": [trial_summary(t) for t in best],
        "pareto_front": [trial_summary(t) for t in best] if len(study.directions) > 1 else None,
        "importances": importances(study),
        "importance_trials": len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))),
        "trials": [trial_summary(t) for t in study.get_trials(deepcopy=False)],
        "config": {k: v for k, v in study.user_attrs.items() if k != "serbench"},
    }


def save_summary(summary: dict[str, Any], folder: Path) -> list[Path]:
    """``summary.json`` and, for multi-objective studies, ``pareto.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "summary.json"]
    written[0].write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    if summary["pareto_front"] is not None:
        path = folder / "pareto.json"
        doc = {"study": summary["study"], "objectives": summary["objectives"],
               "directions": summary["directions"], "front": summary["pareto_front"]}
        path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_summary(summary: dict[str, Any], console: Any, plots: Sequence[Path] = ()) -> None:
    """Rich tables: outcome counts, best trials (or the Pareto front), importances."""
    from rich.table import Table

    objectives = summary["objectives"] or ["value"]
    counts_text = ", ".join(f"{n} {s.lower()}" for s, n in sorted(summary["counts"].items()))
    console.print(f"[bold]Study {summary['study']}[/] ({summary['storage']}): {counts_text}")
    title = "Pareto front" if summary["pareto_front"] is not None else "Best trials"
    table = Table(title=title)
    table.add_column("trial", justify="right")
    for name, direction in zip(objectives, summary["directions"], strict=False):
        table.add_column(f"{name} ({direction[:3]})", justify="right")
    table.add_column("parameters")
    for trial in summary["best"]:
        values = trial["values"] or []
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(trial["params"].items()))
        number = str(trial["number"]) + (f" ({trial['origin']})" if trial.get("origin") else "")
        table.add_row(number, *[format_value(name, v) for name, v in
                                zip(objectives, values, strict=False)], params)
    console.print(table)
    n_trials = summary.get("importance_trials", MIN_TRIALS_FOR_IMPORTANCE)
    if summary["importances"] and n_trials < MIN_TRIALS_FOR_IMPORTANCE:
        console.print(f"[yellow]note[/]: importances from {n_trials} complete trial(s) are "
                      f"noise; read them from about {MIN_TRIALS_FOR_IMPORTANCE} trials on "
                      "(--trials)")
    for name, values in summary["importances"].items():
        imp = Table(title=f"Parameter importance ({name})")
        imp.add_column("parameter")
        imp.add_column("importance", justify="right")
        for param, value in values.items():
            imp.add_row(param, f"{value:.3f}")
        console.print(imp)
    ended = [t for t in summary["trials"] if t["reason"]]
    if ended:
        console.print("[bold]Trials that ended early[/]")
        for t in ended[:20]:
            console.print(f"  #{t['number']} {t['state'].lower()}: {t['reason']}")
        if len(ended) > 20:
            console.print(f"  ... and {len(ended) - 20} more (see summary.json)")
    for path in plots:
        console.print(f"plot: {path}")
