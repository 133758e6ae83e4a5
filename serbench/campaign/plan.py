"""From a suite to the runs it stands for: run ids, what is done, what is left.

Each combination (benchmark x model x variant x feature x overrides x seed) becomes the
settings of one ``serbench run`` (an experiment file, :mod:`serbench.cli.config_file`),
resolved with :func:`serbench.run.resolve.resolve_run` to its run id, exactly as
``serbench run`` would. A run is ``done`` when its folder holds ``record.json``; ``on board``
when there is no such folder but its leaderboard already holds an entry of that run id (a
campaign shipped with its leaderboards resumes on a fresh clone instead of re-running
hours of finished runs; the run id is a hash of everything the result depends on);
``partial`` when the folder exists without a record, or when the board holds finished
folds of the run shipped by an earlier sweep (:mod:`serbench.campaign.shipped`; the
executor resumes it); ``todo`` otherwise. A
combination that cannot run (a label map the corpus lacks, a protocol that does not fit)
stops the whole plan before anything runs, with every such problem listed.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serbench.campaign.suite import Benchmark, ModelEntry, Resources, Suite, SuiteError
from serbench.errors import SerbenchError
from serbench.plugins import Registry
from serbench.run.config import RunConfig
from serbench.run.folder import RunFolder

#: statuses of a run that is not run again
FINISHED = ("done", "on board")


@dataclass
class PlannedRun:
    """One run of a campaign."""

    run_id: str
    #: the experiment file's settings (``serbench run --config``)
    settings: dict[str, Any]
    benchmark: Benchmark
    #: the leaderboard the run goes to
    leaderboard: str
    label: str
    resources: Resources
    status: str = "todo"
    #: seconds left to run, from past runs or finished folds of this configuration (estimate)
    estimate_s: float | None = None
    #: folds of this run shipped beside its leaderboard by an earlier sweep
    shipped: list[str] = field(default_factory=list)
    #: folds the run has (its protocol's split)
    n_folds: int = 0
    identity: dict[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.settings["seed"])

    @property
    def finished(self) -> bool:
        """Done here, or its result already on its leaderboard: nothing to run."""
        return self.status in FINISHED


def combinations(suite: Suite) -> Iterator[tuple[Benchmark, ModelEntry, dict[str, Any]]]:
    """Every (benchmark, model entry, run settings) of the suite's matrix, in file order."""
    for bench in suite.benchmarks:
        for entry in suite.models:
            for variant in entry.variants:
                for feature in entry.features:
                    for overrides in entry.sets:
                        for seed in entry.seeds or suite.seeds:
                            settings = {
                                "model": entry.name, "variant": variant,
                                "corpus": bench.corpus,
                                "data": str(bench.data) if bench.data else None,
                                "corpus_options": dict(bench.corpus_options),
                                "label_map": bench.label_map, "protocol": bench.protocol,
                                "protocol_options": dict(bench.protocol_options),
                                "feature": feature, "feature_params": dict(entry.feature_params),
                                "normalisation": entry.normalisation, "set": dict(overrides),
                                "max_epochs": entry.max_epochs, "seed": seed,
                                "device": suite.device,
                            }
                            yield bench, entry, {k: v for k, v in settings.items()
                                                 if v not in (None, {})}


def run_config(settings: dict[str, Any], runs_dir: Path) -> RunConfig:
    """The :class:`RunConfig` ``serbench run --config`` builds from these settings."""
    return RunConfig(
        model=settings["model"], variant=settings.get("variant"), corpus=settings["corpus"],
        data=settings.get("data"), corpus_options=settings.get("corpus_options", {}),
        label_map=settings.get("label_map"), protocol=settings.get("protocol"),
        protocol_options=settings.get("protocol_options", {}), feature=settings.get("feature"),
        feature_params=settings.get("feature_params", {}),
        normalisation=settings.get("normalisation"), overrides=settings.get("set", {}),
        seed=settings["seed"], device=settings.get("device", "auto"), runs_dir=runs_dir,
        max_epochs=settings.get("max_epochs"))


def label(settings: dict[str, Any], variant: str | None) -> str:
    """``model/variant/corpus[/feature][/<norm>-norm]/s<seed>``: how a run is named in
    tables and in ``squeue``; the feature set and normalisation appear when the suite
    sets them, so that two entries of one model differ."""
    norm = settings.get("normalisation")
    return "/".join(str(p) for p in (settings["model"], variant, settings["corpus"],
                                      settings.get("feature"), norm and f"{norm}-norm",
                                      f"s{settings['seed']}") if p)


def disambiguate(runs: list[PlannedRun]) -> None:
    """Give runs that still share a label (entries differing only in ``set`` or feature
    parameters) the hash of their run id, ``label#1a2b3c4d``, so every row is told apart."""
    count: dict[str, int] = {}
    for run in runs:
        count[run.label] = count.get(run.label, 0) + 1
    for run in runs:
        if count[run.label] > 1:
            run.label = f"{run.label}#{run.run_id.rsplit('-', 1)[-1]}"


def plan(suite: Suite, runs_dir: Path, registry: Registry,
         leaderboards: Path | None = None) -> list[PlannedRun]:
    """Resolve every combination to its run id and status (``on board`` is looked up
    under ``leaderboards`` when it is given).

    Raises:
        SuiteError: combinations that cannot run, all listed, before anything runs.
    """
    from serbench.campaign.shipped import shipped_folds
    from serbench.leaderboard.records import benchmark_id
    from serbench.run.record import identity, make_run_id
    from serbench.run.resolve import resolve_run

    runs: list[PlannedRun] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for bench, entry, settings in combinations(suite):
        try:
            res = resolve_run(run_config(settings, runs_dir), registry)
        except SerbenchError as exc:
            problems.append(f"{label(settings, settings.get('variant'))}: {exc}")
            continue
        ident = identity(res)
        run_id = make_run_id(res, ident)
        if run_id in seen:  # two matrix cells that resolve to the same run: run it once
            continue
        seen[run_id] = label(settings, res.variant)
        board = bench.name or benchmark_id({  # the name `leaderboard add` would give
            "corpus": {"name": res.corpus_entry.spec.name, "label_map": res.label_map},
            "protocol": {"name": res.protocol_entry.spec.name}})
        shipped = shipped_folds(leaderboards, board, run_id) if leaderboards else []
        status = run_status(RunFolder(runs_dir / run_id), leaderboards, board, run_id)
        if status == "todo" and shipped:
            status = "partial"
        runs.append(PlannedRun(run_id=run_id, settings=settings, benchmark=bench,
                               leaderboard=board, label=label(settings, res.variant),
                               resources=entry.resources,
                               status=status, identity=ident, shipped=shipped,
                               n_folds=len(res.folds)))
    if problems:
        raise SuiteError(f"suite {suite.path}: {len(problems)} run(s) cannot run; nothing was "
                         "run:\n  " + "\n  ".join(problems))
    disambiguate(runs)
    estimate(runs, runs_dir, leaderboards)
    return runs


def run_status(folder: RunFolder, leaderboards: Path | None, board: str, run_id: str) -> str:
    """``done``, ``on board``, ``partial`` or ``todo`` (module docstring)."""
    if folder.is_complete():
        return "done"
    if leaderboards is not None and entry_path(leaderboards, board, run_id).is_file():
        return "on board"
    return "partial" if folder.exists() else "todo"


def entry_path(leaderboards: Path, board: str, run_id: str) -> Path:
    """Where ``board`` keeps the entry of ``run_id``."""
    from serbench.leaderboard.store import Leaderboard

    return Leaderboard(leaderboards, board).entries_dir / f"{run_id}.json"


def select(runs: list[PlannedRun], patterns: list[str]) -> list[PlannedRun]:
    """The runs whose label matches one of ``patterns`` (shell wildcards, ``--only``).

    Raises:
        ConfigError: a pattern that matches no run, with the labels there are.
    """
    from fnmatch import fnmatchcase

    if not patterns:
        return runs
    unmatched = [p for p in patterns if not any(fnmatchcase(r.label, p) for r in runs)]
    if unmatched:
        from serbench.errors import ConfigError

        known = ", ".join(r.label for r in runs[:12]) + (", ..." if len(runs) > 12 else "")
        raise ConfigError(f"--only {', '.join(map(repr, unmatched))} matches no run of the "
                          f"suite; runs are labelled model/variant/corpus/s<seed> "
                          f"(wildcards * and ?), e.g. {known}")
    return [r for r in runs if any(fnmatchcase(r.label, p) for p in patterns)]


def _cost_key(ident: dict[str, Any]) -> str:
    """What a run's duration depends on: its identity but the seed and the seed's split."""
    same = {k: v for k, v in ident.items() if k != "seed"}
    same["protocol"] = {k: v for k, v in (ident.get("protocol") or {}).items()
                        if k != "split_hash"}
    return json.dumps(same, sort_keys=True, default=str)


def past_durations(runs_dir: Path) -> dict[str, list[float]]:
    """Cost key -> wall seconds of finished runs under ``runs_dir`` (from ``config.json``,
    written first, to ``record.json``, written last)."""
    out: dict[str, list[float]] = {}
    if not runs_dir.is_dir():
        return out
    for config in runs_dir.glob("*/config.json"):
        record = config.parent / "record.json"
        if not record.is_file():
            continue
        try:
            ident = json.loads(config.read_text(encoding="utf-8"))["identity"]
        except (OSError, ValueError, KeyError):
            continue
        seconds = record.stat().st_mtime - config.stat().st_mtime
        if seconds > 0:
            out.setdefault(_cost_key(ident), []).append(seconds)
    return out


def past_fold_seconds(runs_dir: Path, leaderboards: Path | None = None
                      ) -> dict[str, list[float]]:
    """Cost key -> seconds of each finished fold under ``runs_dir`` and of each fold shipped
    under ``leaderboards`` (its training time plus the time to predict its test set,
    from the fold's own timing: the fold's wall time is not recorded)."""
    folders = list(runs_dir.glob("*/config.json")) if runs_dir.is_dir() else []
    if leaderboards is not None and leaderboards.is_dir():
        from serbench.campaign.shipped import PARTIAL_DIR

        folders += leaderboards.glob(f"*/{PARTIAL_DIR}/*/config.json")
    seconds: dict[tuple[str, str, str], float] = {}  # a fold both here and shipped counts once
    for config in folders:
        folder = RunFolder(config.parent)
        try:
            key = _cost_key(folder.read_config()["identity"])
            folds = folder.completed_folds().values()
        except (SerbenchError, KeyError):  # an unreadable folder estimates nothing
            continue
        for fold in folds:
            timing = fold.get("timing") or {}
            train, rate = timing.get("train_seconds"), timing.get("throughput_utt_per_s")
            if train is not None:
                predict = fold.get("n_test", 0) / rate if rate else 0.0
                seconds[(key, folder.run_id, str(fold.get("name")))] = float(train) + predict
    out: dict[str, list[float]] = {}
    for (key, _, _), value in seconds.items():
        out.setdefault(key, []).append(value)
    return out


def estimate(runs: list[PlannedRun], runs_dir: Path, leaderboards: Path | None = None) -> None:
    """Set each run's ``estimate_s``: what is left of it, from the finished folds of runs
    of the same configuration (any seed; here or shipped) when the run has folds done or
    no run of its configuration finished here, else the median of those finished runs."""
    past = past_durations(runs_dir)
    folds = past_fold_seconds(runs_dir, leaderboards)
    for run in runs:
        key = _cost_key(run.identity)
        local = RunFolder(runs_dir / run.run_id)
        done = set(run.shipped) | (set(local.completed_folds()) if local.exists() else set())
        if folds.get(key) and (done or not past.get(key)):
            left = max(0, run.n_folds - len(done))
            run.estimate_s = statistics.median(folds[key]) * left
        else:
            run.estimate_s = statistics.median(past[key]) if past.get(key) else None
