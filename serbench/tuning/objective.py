"""The trial objective: sample a configuration, train on the inner splits, score it.

Objectives are names: any scalar metric plugin (``ua``, ``wa``, ``macro_f1``, ...),
measured on each inner split's scoring part and averaged over splits, or one of the
cost measures of :data:`COSTS` (``latency_ms``, ``params``, ``train_seconds``) for
multi-objective studies (``--objective ua --objective latency_ms``).

Pruning: after each epoch the trial reports the validation UA of its early-stopping
split. With several inner splits, the step is ``k * stride + epoch`` (``k`` the inner
split, ``stride`` the largest epoch budget a trial can have), so steps are monotonic
across splits and every trial reports split ``k``'s epoch ``e`` at the same step; the
pruner compares like with like. Pruning needs one objective to maximise (Optuna does
not prune multi-objective studies).

Every trial stores, as user attributes: ``hyperparameters`` (the full configuration
trained), ``sampler_seed`` (the seed of the process that drew it), ``record`` (search space, per-split metrics, epochs, timing) and, when it
ends early, ``pruned_reason`` or ``fail_reason``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from serbench.components import ModelSpec
from serbench.errors import ConfigError, SerbenchError
from serbench.plugins import Registry
from serbench.tuning.inner import InnerSplit

#: cost objectives -> (FoldOutcome.timing key, direction)
COSTS: dict[str, tuple[str, str]] = {
    "latency_ms": ("inference_latency_ms", "minimize"),
    "params": ("n_parameters", "minimize"),
    "train_seconds": ("train_seconds", "minimize"),
}


def objective_directions(objectives: Sequence[str], directions: Sequence[str],
                         registry: Registry) -> list[str]:
    """Check the objective names and give each its direction (explicit or natural)."""
    if not objectives:
        raise ConfigError("give at least one --objective")
    scalar = {n for n in registry.names("metric")
              if getattr(registry.lookup("metric", n).spec, "shape", "scalar") == "scalar"}
    known = sorted(scalar | set(COSTS))
    natural = []
    for name in objectives:
        if name in COSTS:
            natural.append(COSTS[name][1])
        elif name in scalar:
            spec = registry.lookup("metric", name).spec
            natural.append("maximize" if spec.higher_is_better else "minimize")
        else:
            raise ConfigError(f"--objective {name!r}: not a scalar metric or cost; "
                              f"choose from {', '.join(known)}")
    if not directions:
        return natural
    if len(directions) != len(objectives):
        raise ConfigError(f"--directions gives {len(directions)} direction(s) for "
                          f"{len(objectives)} objective(s) ({', '.join(objectives)})")
    bad = [d for d in directions if d not in ("maximize", "minimize")]
    if bad:
        raise ConfigError(f"--directions {bad}: use maximize or minimize")
    return list(directions)


def suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    """Sample ``name`` from ``dist`` through the trial's public suggest API."""
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    raise ConfigError(f"search space entry {name!r}: unsupported distribution "
                      f"{type(dist).__name__}")


def epoch_stride(space: Mapping[str, BaseDistribution], hparams: Mapping[str, Any]) -> int:
    """The largest epoch budget any trial can have (spacing of pruning steps per split)."""
    dist = space.get("max_epochs")
    if isinstance(dist, IntDistribution | FloatDistribution):
        return int(dist.high)
    if isinstance(dist, CategoricalDistribution):
        return int(max(dist.choices))
    return int(hparams.get("max_epochs", 1) or 1)


class Objective:
    """Callable for ``study.optimize``: one trial = sample, train every inner split, score."""

    def __init__(
        self,
        *,
        spec: ModelSpec,
        hparams: Mapping[str, Any],
        space: Mapping[str, BaseDistribution],
        splits: Sequence[InnerSplit],
        classes: Sequence[str],
        objectives: Sequence[str],
        seed: int,
        device: str,
        registry: Registry,
        prune: bool,
        space_json: Mapping[str, str],
        sampler_seed: int | None = None,
    ):
        self.spec, self.hparams, self.space = spec, dict(hparams), dict(space)
        self.splits, self.classes = list(splits), list(classes)
        self.objectives, self.seed, self.device = list(objectives), seed, device
        self.registry, self.prune = registry, prune
        self.space_json = dict(space_json)
        self.sampler_seed = sampler_seed
        self.stride = epoch_stride(space, hparams)
        self.metric_names = [o for o in objectives if o not in COSTS]

    def _callback(self, trial: optuna.Trial, k: int, split: InnerSplit):
        offset = k * self.stride

        def report(epoch: int, metrics: dict[str, Any]) -> None:
            value = metrics.get("valid_ua")
            if value is None or not math.isfinite(float(value)):
                return
            step = offset + int(epoch)
            trial.report(float(value), step)
            if trial.should_prune():
                reason = (f"pruned by the pruner at inner split {split.fold.name!r}, epoch "
                          f"{epoch} (step {step}): validation UA {float(value):.4f}")
                trial.set_user_attr("pruned_reason", reason)
                raise optuna.TrialPruned(reason)

        return report

    def configuration(self, trial: optuna.Trial) -> dict[str, Any]:
        """The full hyperparameters of this trial: resolved defaults + sampled values."""
        hparams = dict(self.hparams)
        for name, dist in self.space.items():
            hparams[name] = suggest(trial, name, dist)
        return hparams

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        from serbench.metrics.api import compute_metrics
        from serbench.training.fold import run_fold

        hparams = self.configuration(trial)
        trial.set_user_attr("hyperparameters", _jsonable(hparams))
        if self.sampler_seed is not None:  # which process drew it (distinct per resume)
            trial.set_user_attr("sampler_seed", self.sampler_seed)
        per_split: list[dict[str, Any]] = []
        try:
            for k, split in enumerate(self.splits):
                leaked = split.excluded & set(split.features.ids)
                if leaked or split.excluded & set(split.manifest["utt_id"].to_list()):
                    raise SerbenchError(f"inner split {split.fold.name!r} holds outer test ids "
                                        f"{sorted(leaked)[:3]}: refusing to train on them")
                callbacks = [self._callback(trial, k, split)] if self.prune else []
                outcome = run_fold(
                    self.spec, hparams, split.fold, split.manifest, split.features,
                    self.classes, seed=self.seed + k, device=self.device, callbacks=callbacks,
                    context_manifest=split.context_manifest,
                )
                metrics = compute_metrics(outcome.y_true, outcome.y_pred, self.classes,
                                          scores=outcome.scores, names=self.metric_names,
                                          registry=self.registry) if self.metric_names else {}
                values = {o: float(metrics[o]) if o in metrics
                          else float(outcome.timing.get(COSTS[o][0]) or 0.0)
                          for o in self.objectives}
                per_split.append({
                    "split": split.fold.name, "values": values,
                    "epochs_run": outcome.epochs_run, "best_epoch": outcome.best_epoch,
                    "n_train": len(split.fold.train), "n_score": len(split.fold.test),
                    "timing": {k2: outcome.timing.get(k2) for k2 in
                               ("train_seconds", "inference_latency_ms", "n_parameters")},
                })
                trial.set_user_attr("record", self._record(per_split))
        except optuna.TrialPruned:
            trial.set_user_attr("record", self._record(per_split))
            raise
        except Exception as exc:
            trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}"[:2000])
            raise
        means = [sum(s["values"][o] for s in per_split) / len(per_split)
                 for o in self.objectives]
        return means[0] if len(means) == 1 else tuple(means)

    def _record(self, per_split: list[dict[str, Any]]) -> dict[str, Any]:
        return {"search_space": self.space_json, "objectives": self.objectives,
                "inner_splits": per_split, "seed": self.seed}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
