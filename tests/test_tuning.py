"""``serbench tune``: search spaces, inner splits without leakage, pruning, storage, reports.

Trials run the svm (and, for pruning, a tiny BiLSTM) on in-memory toy features of a
6-speaker tiny corpus, so no audio is read; plots are off except in the slow test.
"""

from __future__ import annotations

import dataclasses
import json
import time
import types
from pathlib import Path

import optuna
import pytest
from _run_helpers import TINY_HPARAMS, toy_plugin, toy_table
from click.testing import CliRunner
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from serbench import hookimpl
from serbench.errors import ConfigError
from serbench.models.plugin import BILSTM_ATT, SVM
from serbench.plugins import Registry, make_plugin_manager
from serbench.run.config import RunConfig
from serbench.testing.corpora import write_tiny_corpus
from serbench.tuning import space as spaces
from serbench.tuning.report import STALE_REASON
from serbench.tuning.study import TuneConfig, tune

GRID_SVM = dataclasses.replace(SVM, name="svm_grid",
                               grids={"c_gamma": {"C": (0.5, 2.0), "gamma": (0.01, 0.1)}})
NO_SPACE_TORCH = dataclasses.replace(BILSTM_ATT, name="bilstm_nospace", search_space=None)
NO_SPACE_SKLEARN = dataclasses.replace(SVM, name="svm_nospace", search_space=None)


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=6, per_speaker=4)


@pytest.fixture(scope="module")
def registry():
    @hookimpl
    def register_models(register):
        for spec in (GRID_SVM, NO_SPACE_TORCH, NO_SPACE_SKLEARN):
            register(spec)

    models = types.SimpleNamespace(register_models=register_models)
    return Registry(make_plugin_manager(extra_plugins=[("toy_features", toy_plugin()),
                                                       ("tune_models", models)]))


@pytest.fixture(scope="module")
def functionals(tiny_csv):
    return toy_table(tiny_csv, "functionals")


@pytest.fixture(scope="module")
def frames(tiny_csv):
    return toy_table(tiny_csv, "frames")


def svm_run(csv: Path, **kw) -> RunConfig:
    base = dict(model="svm", corpus="manifest", data=csv, protocol="loso-speaker",
                feature="toy_functionals", device="cpu")
    base.update(kw)
    return RunConfig(**base)


def lstm_run(csv: Path, **kw) -> RunConfig:
    base = dict(model="bilstm_att", corpus="manifest", data=csv, protocol="loso-speaker",
                feature="toy_frames", device="cpu", overrides=TINY_HPARAMS, max_epochs=3)
    base.update(kw)
    return RunConfig(**base)


def run_tune(registry, features, run, **kw):
    kw.setdefault("plots", False)
    return tune(TuneConfig(run=run, **kw), registry=registry, progress=False,
                features=features)


# -- search spaces ---------------------------------------------------------------------


def test_overrides_parse_every_form():
    got = spaces.parse_overrides([
        "lr=float:1e-4:1e-2:log", "dropout=float:0:0.5:0.1", "hidden=int:16:256:log",
        "layers=int:1:3", "act=cat:relu,tanh", "sizes=cat:64,128", "beta=off"])
    assert got["lr"] == FloatDistribution(1e-4, 1e-2, log=True)
    assert got["dropout"] == FloatDistribution(0.0, 0.5, step=0.1)
    assert got["hidden"] == IntDistribution(16, 256, log=True)
    assert got["layers"] == IntDistribution(1, 3)
    assert got["act"] == CategoricalDistribution(("relu", "tanh"))
    assert got["sizes"] == CategoricalDistribution((64, 128))
    assert got["beta"] is None


@pytest.mark.parametrize("text, message", [
    ("lr=float:1e-2:1e-4", "empty"),
    ("lr=float:0:1:log", "lr"),
    ("hidden=cat:", "at least one choice"),
    ("hidden=int:5:1", "empty"),
    ("lr=gauss:0:1", "unknown distribution type"),
    ("lr=float:a:1", "not a number"),
    ("lr", "must look like"),
])
def test_bad_overrides_are_clear_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        spaces.parse_overrides([text])


def test_unknown_override_name_suggests_the_close_one():
    space, origin = spaces.model_space(BILSTM_ATT)
    assert origin == "model" and set(space) == {"hidden", "dropout", "lr"}
    from serbench.run.model_hparams import known_hyperparameters

    known = known_hyperparameters(BILSTM_ATT)
    with pytest.raises(ConfigError, match=r"'hiden' \(did you mean 'hidden'\?\)"):
        spaces.apply_overrides(space, {"hiden": IntDistribution(1, 2)}, known, "bilstm_att")
    out = spaces.apply_overrides(space, {"batch_size": CategoricalDistribution((8, 16)),
                                         "dropout": None}, known, "bilstm_att")
    assert set(out) == {"hidden", "lr", "batch_size"}
    with pytest.raises(ConfigError, match="empty after the overrides"):
        spaces.apply_overrides({"lr": space["lr"]}, {"lr": None}, known, "bilstm_att")


def test_space_file_yaml_and_toml(tmp_path):
    yaml_file = tmp_path / "space.yaml"
    yaml_file.write_text("lr: float:1e-4:1e-2:log\nhidden: {choices: [8, 16]}\n")
    toml_file = tmp_path / "space.toml"
    toml_file.write_text('[space]\nlr = {type = "float", low = 0.0001, high = 0.01, log = true}\n'
                         'dropout = "off"\n')
    assert spaces.load_space_file(yaml_file) == {
        "lr": FloatDistribution(1e-4, 1e-2, log=True),
        "hidden": CategoricalDistribution((8, 16))}
    assert spaces.load_space_file(toml_file) == {
        "lr": FloatDistribution(1e-4, 1e-2, log=True), "dropout": None}
    bad = tmp_path / "bad.yaml"
    bad.write_text("hidden: {choices: []}\n")
    with pytest.raises(ConfigError, match="empty 'choices'"):
        spaces.load_space_file(bad)


def test_models_without_a_space():
    space, origin = spaces.model_space(NO_SPACE_TORCH)
    assert origin == "default" and set(space) == {"lr", "batch_size", "weight_decay"}
    with pytest.raises(ConfigError, match="declares no search space"):
        spaces.model_space(NO_SPACE_SKLEARN)


def test_show_space_imports_neither_torch_nor_the_study_machinery():
    import subprocess
    import sys

    code = ("import sys, time; from serbench.cli import main; sys.argv = ['serbench', 'tune',"
            " '-m', 'ar_gru', '--show-space']\ntry:\n main()\nexcept SystemExit: pass\n"
            "print([m for m in ('torch', 'serbench.tuning.study', 'serbench.tuning.objective')"
            " if m in sys.modules], time.process_time())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    imported, seconds = out.rsplit(" ", 1)
    assert imported == "[]"
    assert float(seconds) < 2.0  # about 0.5 s of CPU; importing torch alone costs more


def test_show_space_lists_the_space_and_grids():
    from serbench.cli import cli

    result = CliRunner().invoke(cli, ["tune", "--model", "bilstm_att", "--show-space",
                                      "--space", "lr=float:1e-3:1e-2:log"])
    assert result.exit_code == 0, result.output
    assert "float [0.001, 0.01] log" in result.output and "hidden" in result.output
    result = CliRunner().invoke(cli, ["tune", "--model", "bilstm_att", "--show-space",
                                      "--space", "hiden=int:1:2"])
    assert isinstance(result.exception, ConfigError) and "did you mean" in str(result.exception)


# -- trials ----------------------------------------------------------------------------


def test_first_trial_is_the_defaults_and_the_space_is_recorded(env, tiny_csv, registry,
                                                               functionals):
    result = run_tune(registry, functionals, svm_run(tiny_csv), trials=3, sampler="random")
    study = result.study
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    # gamma's default "scale" is not in the space: only C is fixed, gamma is sampled
    assert trials[0].system_attrs["fixed_params"] == {"C": 1.0}
    assert trials[0].params["C"] == 1.0
    assert trials[0].user_attrs["origin"] == "model defaults"  # the svm cites no paper
    assert study.metric_names == ["ua"]  # what optuna-dashboard labels the axis with
    expected = spaces.space_to_json(spaces.model_space(SVM)[0])
    assert study.user_attrs["search_space"] == expected
    for trial in trials:
        assert trial.user_attrs["record"]["search_space"] == expected
        assert trial.user_attrs["hyperparameters"]["C"] == trial.params["C"]
    assert result.url.startswith("sqlite:///") and result.url.endswith(
        "studies/svm-manifest-loso-speaker-ua.db")
    assert (result.folder / "summary.json").is_file()


def test_grid_sampler_runs_the_named_grid(env, tiny_csv, registry, functionals):
    result = run_tune(registry, functionals, svm_run(tiny_csv, model="svm_grid"),
                      grid="c_gamma")
    points = sorted((t.params["C"], t.params["gamma"]) for t in result.study.trials)
    assert points == [(0.5, 0.01), (0.5, 0.1), (2.0, 0.01), (2.0, 0.1)]
    assert set(result.study.user_attrs["search_space"]) == {"C", "gamma"}
    with pytest.raises(ConfigError, match="has no grid 'nope'"):
        run_tune(registry, functionals, svm_run(tiny_csv, model="svm_grid"), grid="nope")


def test_no_trial_sees_an_outer_test_fold(env, tiny_csv, registry, functionals, monkeypatch):
    from serbench.run.resolve import resolve_run
    from serbench.training import fold as fold_module

    outer = {f.name: set(f.test) for f in resolve_run(svm_run(tiny_csv), registry).folds}
    seen: list[tuple[str, set[str]]] = []
    original = fold_module.run_fold

    class Spy:
        def __init__(self, table, name):
            self.table, self.name = table, name

        def __getattr__(self, attr):
            return getattr(self.table, attr)

        def __getitem__(self, utt):
            seen.append((self.name, {utt}))
            return self.table[utt]

        def __contains__(self, utt):
            return utt in self.table

    def spy(model, hparams, fold, manifest, features, classes, **kw):
        name = fold.name.split("/")[0]
        ids = set(manifest["utt_id"].to_list()) | set(features.ids)
        ids |= set(fold.train) | set(fold.valid) | set(fold.test)
        seen.append((name, ids))
        return original(model, hparams, fold, manifest, Spy(features, name), classes, **kw)

    monkeypatch.setattr(fold_module, "run_fold", spy)
    run_tune(registry, functionals, svm_run(tiny_csv), trials=2, inner_folds=2)
    names = {name for name, _ in seen}
    assert len(names) == 2 and names <= set(outer)
    for name, ids in seen:
        assert ids and not ids & outer[name], f"outer test ids of {name} reached a trial"


def test_pruned_and_failed_trials_say_why(env, tiny_csv, registry, frames, monkeypatch):
    from serbench.tuning import study as study_module

    # a threshold no UA can reach: every trial is pruned at its first judged step
    monkeypatch.setattr(study_module, "make_pruner",
                        lambda name, max_steps: optuna.pruners.ThresholdPruner(lower=2.0))
    space = {"lr": FloatDistribution(1e-3, 1e-2, log=True)}
    result = run_tune(registry, frames, lstm_run(tiny_csv), trials=2, space_overrides=space)
    trials = result.study.get_trials()
    assert [t.state for t in trials] == [TrialState.PRUNED] * 2
    assert "pruned by the pruner" in trials[0].user_attrs["pruned_reason"]
    assert trials[0].intermediate_values  # per-epoch validation reports
    assert result.summary["trials"][0]["reason"].startswith("pruned by the pruner")
    # a learning rate Adam would refuse is refused before the study starts
    with pytest.raises(ConfigError, match="lr: reaches -1.0, -0.5; expected float > 0"):
        run_tune(registry, frames, lstm_run(tiny_csv), trials=1, pruner="none",
                 study="failing", space_overrides={"lr": FloatDistribution(-1.0, -0.5)})
    # a trial whose training raises fails, with the reason, and the study goes on
    import serbench.training.fold as fold_module

    def broken(*args, **kwargs):
        raise ValueError("Invalid learning rate: -1.0")

    monkeypatch.setattr(fold_module, "run_fold", broken)
    result = run_tune(registry, frames, lstm_run(tiny_csv), trials=1, pruner="none",
                      study="failing")
    failed = result.study.get_trials()
    assert [t.state for t in failed] == [TrialState.FAIL]
    assert "learning rate" in failed[0].user_attrs["fail_reason"].lower()


def test_pruning_steps_are_monotonic_across_inner_splits(env, tiny_csv, registry, frames):
    result = run_tune(registry, frames, lstm_run(tiny_csv), trials=1, inner_folds=2,
                      space_overrides={"hidden": CategoricalDistribution((8,))})
    trial = result.study.get_trials()[0]
    assert sorted(trial.intermediate_values) == [1, 2, 3, 4, 5, 6]  # split k: 3k + epoch
    assert len(trial.user_attrs["record"]["inner_splits"]) == 2


def test_sqlite_study_resumes_and_refuses_another_space(env, tiny_csv, registry,
                                                       functionals):
    run = svm_run(tiny_csv)
    first = run_tune(registry, functionals, run, trials=2, sampler="random", heartbeat=1)
    # a worker that died mid-trial: a running trial whose heartbeat stopped
    study = first.study
    storage = study._storage
    dead = study.ask()
    storage.record_heartbeat(dead._trial_id)
    # > the grace period (2 x heartbeat), with a second to spare: SQLite's clock, which
    # optuna compares heartbeats with, has a resolution of one second
    time.sleep(3.5)
    again = run_tune(registry, functionals, run, trials=4, sampler="random", heartbeat=1)
    trials = again.study.get_trials()
    assert again.url == first.url
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 4
    assert trials[dead.number].state == TrialState.FAIL
    summary = {t["number"]: t for t in again.summary["trials"]}
    assert summary[dead.number]["reason"] == STALE_REASON
    assert any(t["retry_of"] == dead.number for t in summary.values())
    with pytest.raises(ConfigError, match=r"another configuration:\n  C: study has"):
        run_tune(registry, functionals, run, trials=6,
                 space_overrides={"C": FloatDistribution(0.1, 10.0)})
    assert len(again.study.get_trials()) == len(trials)  # no trial ran


def test_unreachable_storage_is_a_clear_error(env, tiny_csv, registry, functionals):
    url = "postgresql://serbench:secret@127.0.0.1:1/nowhere"
    with pytest.raises(ConfigError, match=r"cannot open the study database") as info:
        run_tune(registry, functionals, svm_run(tiny_csv), trials=1, storage=url)
    assert "secret" not in str(info.value) and "serbench:***@127.0.0.1:1" in str(info.value)


def test_objective_errors(env, tiny_csv, registry, functionals):
    with pytest.raises(ConfigError, match="not a scalar metric or cost"):
        run_tune(registry, functionals, svm_run(tiny_csv), objectives=("confusion",))
    with pytest.raises(ConfigError, match="gives 1 direction"):
        run_tune(registry, functionals, svm_run(tiny_csv), objectives=("ua", "params"),
                 directions=("maximize",))


def test_multi_objective_saves_the_pareto_front(env, tiny_csv, registry, functionals):
    result = run_tune(registry, functionals, svm_run(tiny_csv), trials=3, sampler="random",
                      objectives=("ua", "latency_ms"))
    assert [d.name for d in result.study.directions] == ["MAXIMIZE", "MINIMIZE"]
    doc = json.loads((result.folder / "pareto.json").read_text())
    assert doc["objectives"] == ["ua", "latency_ms"]
    assert doc["directions"] == ["maximize", "minimize"]
    front = {t["number"] for t in doc["front"]}
    assert front and front == {t.number for t in result.study.best_trials}
    assert all(len(t["values"]) == 2 for t in doc["front"])


def test_evaluate_best_writes_a_tuned_run_record(env, tiny_csv, registry, functionals):
    from serbench.tuning.evaluate import evaluate_best

    run = svm_run(tiny_csv)
    result = run_tune(registry, functionals, run, trials=2, sampler="random")
    best = result.study.best_trial
    record, added = evaluate_best(result.study, run, result.url, registry=registry,
                                  progress=False, features=functionals,
                                  leaderboard=env / "leaderboards")
    tuning = record["tuning"]
    assert tuning["study"] == result.study.study_name and tuning["trial"] == best.number
    assert tuning["objective"] == "ua" and tuning["value"] == best.value
    assert tuning["storage"] == result.url
    assert record["model"]["hyperparameters"]["C"] == best.params["C"]
    assert record["protocol"]["n_folds"] == 6  # the full outer protocol
    assert added and added[0].status == "added" and added[0].path.is_file()


@pytest.mark.slow
def test_plots_are_written(env, tiny_csv, registry, functionals):
    result = run_tune(registry, functionals, svm_run(tiny_csv), trials=4, sampler="random",
                      plots=True)
    names = {p.name for p in result.plots}
    assert {"history.png", "parallel.png", "contour_C_gamma.png"} <= names, result.skipped_plots


def test_first_trial_origin_says_paper_variant_and_fixed_values(env, tiny_csv, registry,
                                                                functionals):
    from serbench.tuning.study import defaults_origin, prepare

    cited = TuneConfig(run=svm_run(tiny_csv, model="bilstm_att", feature="toy_frames",
                                   variant="frontend", overrides={"lr": 0.002}))
    prep = prepare(cited, registry)
    assert defaults_origin(prep, {"lr": 0.002, "dropout": 0.3}) == \
        "paper defaults + variant frontend + --set lr"
    plain = prepare(TuneConfig(run=svm_run(tiny_csv)), registry)
    assert defaults_origin(plain, {"C": 1.0}) == "model defaults"


def test_summary_prints_percentages_and_warns_about_few_trials(env, tiny_csv, registry,
                                                                functionals):
    from rich.console import Console

    from serbench.tuning.report import format_value, print_summary

    assert format_value("ua", 0.4567) == "45.7%" and format_value("latency_ms", 1.25) == "1.25"
    result = run_tune(registry, functionals, svm_run(tiny_csv), trials=3, sampler="random")
    console = Console(record=True, width=160)
    summary = dict(result.summary, importances={"ua": {"C": 0.7, "gamma": 0.3}})
    print_summary(summary, console)
    text = console.export_text()
    best = result.summary["best"][0]
    assert format_value("ua", best["values"][0]) in text
    assert "importances from 3 complete trial(s) are noise" in text
    assert "(model defaults)" in text or best["number"] != 0
    console = Console(record=True, width=160)
    print_summary(dict(summary, importance_trials=12), console)
    assert "are noise" not in console.export_text()


def test_tune_reads_the_leaderboards_folder_from_the_environment(monkeypatch, tmp_path):
    from serbench.cli.tune_cmd import command

    monkeypatch.setenv("SERBENCH_LEADERBOARDS", str(tmp_path / "boards"))
    ctx = command.make_context("tune", ["--model", "svm"])
    assert ctx.params["leaderboard_root"] == tmp_path / "boards"
    assert command.make_context("tune", ["-m", "svm", "--threads", "2"]).params["threads"] == 2
