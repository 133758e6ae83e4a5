"""Faults: bad ``--set`` / ``--feature-param`` / ``--space`` values are refused before work.

Every refusal goes through the real CLI entry point (``serbench.cli.main``) in-process:
exit code 2, one message naming each bad hyperparameter and what it accepts, no run
folder, and the corpus is never loaded (``load_corpus`` is replaced by a tripwire).
The derivation rules of :mod:`serbench.hyperparameters` are tested on small specs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from serbench.cli import main
from serbench.components import ModelSpec
from serbench.errors import ConfigError
from serbench.hyperparameters import Param, check_presets, check_values, declarations
from serbench.plugins import get_registry


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty runs folder, and a corpus loader that fails the test if it is reached."""
    import serbench.corpora.api as corpora_api

    def tripwire(*args, **kwargs):
        raise AssertionError("the corpus was loaded before the hyperparameters were checked")

    monkeypatch.setattr(corpora_api, "load_corpus", tripwire)
    folder = tmp_path / "runs"
    monkeypatch.setenv("SERBENCH_RUNS", str(folder))
    return folder


def refused(args: list[str], runs: Path, capsys: pytest.CaptureFixture) -> str:
    """Run the CLI, expect exit code 2 and no run folder; return stderr."""
    with pytest.raises(SystemExit) as info:
        main(["run", *args, "--runs-dir", str(runs), "-q"])
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert not runs.exists() or not any(runs.iterdir()), "a refused run left a folder"
    return err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--model", "ar_gru", "--set", "lr=-0.1"], "lr=-0.1: expected float > 0"),
        (["--model", "ar_gru", "--set", "hidden_size=1.5"], "hidden_size=1.5: expected int >= 1"),
        (["--model", "ar_gru", "--set", "hidden=1.5"], "did you mean 'hidden_size'"),
        (["--model", "svm", "--set", "C=abc"], "C='abc': expected float > 0"),
        (["--model", "bilstm_att", "--set", "batch_size=0"], "batch_size=0: expected int >= 1"),
        (["--model", "bilstm_att", "--set", "dropout=2"], "dropout=2: expected float in [0, 1)"),
        (["--model", "svm", "--set", "kernel=rbff"], "one of 'linear', 'poly', 'rbf', 'sigmoid'"),
        (["--model", "ar_gru", "--set", "optimizer=adamw"], "one of 'adam', 'sgd'"),
        (["--model", "ar_gru", "--set", "bidirectional=3"], "bidirectional=3: expected bool"),
        (["--model", "svm", "--feature-param", "sett=x"],
         "'sett' (did you mean 'set'?): not a parameter of feature 'egemaps'; its "
         "parameters: level, sample_rate, set, trim_silence"),
        (["--model", "svm", "--feature-param", "trim_silence=-3"], "trim_silence=-3"),
        (["--model", "ar_gru", "--feature-param", "pool=2.5"],
         "pool=2.5: expected int (the type of its default 5)"),
    ],
)
def test_a_bad_value_exits_2_before_anything_runs(args, expected, runs, capsys):
    assert expected in refused(args, runs, capsys)


@pytest.mark.parametrize("args", [
    ["--model", "ar_gru", "--set", "lr=1", "--set", "hidden_size=64", "--set", "dropout=0"],
    ["--model", "svm", "--set", "gamma=auto", "--feature-param", "sample_rate=16000",
     "--feature-param", "trim_silence=10"],
    ["--model", "dense_lstm", "--set", "cells=128,64", "--set", "optimizer=sgd"],
])
def test_good_values_pass_on_to_the_corpus(args, runs):
    with pytest.raises(AssertionError, match="the corpus was loaded"):  # the tripwire
        main(["run", *args, "--runs-dir", str(runs), "-q"])


def test_every_bad_value_is_in_one_message(runs, capsys):
    err = refused(["--model", "bilstm_att", "--set", "lr=-0.1", "--set", "batch_size=0",
                   "--set", "dropout=2", "--set", "hidden=1.5", "--set", "hiden=3"], runs, capsys)
    assert "--set: 5 problems" in err
    for name in ("lr=-0.1", "batch_size=0", "dropout=2", "hidden=1.5", "hiden:"):
        assert name in err


def test_good_values_are_typed_as_declared():
    svm = get_registry().model("svm")
    used, problems = check_values(svm, {"C": 2, "gamma": "auto", "kernel": "linear"})
    assert problems == [] and used["C"] == 2.0 and isinstance(used["C"], float)
    dense = get_registry().model("dense_lstm")
    # a list of ints also comes as one int or a comma string (serbench.run.options.int_list)
    _, problems = check_values(dense, {"cells": 256, "betas": [0.9, 0.99]})
    assert problems == []
    _, problems = check_values(dense, {"cells": "128,x", "betas": [0.9, 1.5]})
    assert [p.split("=")[0] for p in problems] == ["cells", "betas"]


def test_every_registered_model_accepts_its_own_presets():
    registry = get_registry()
    for name in registry.names("model"):
        assert check_presets(registry.model(name)) == [], name


def toy_spec(**kw) -> ModelSpec:
    base = dict(name="toy", version=1, description="toy", builder="x:y", framework="sklearn")
    return ModelSpec(**{**base, **kw})


def test_rules_are_derived_from_defaults_and_the_space():
    space = {"a": FloatDistribution(1e-3, 1.0, log=True), "n": IntDistribution(2, 8),
             "k": CategoricalDistribution((16, 32)), "mode": CategoricalDistribution(("x", "y")),
             "cells": CategoricalDistribution(("64,64", "128,64")), "w": FloatDistribution(-1, 1)}
    spec = toy_spec(defaults={"a": 0.1, "depth": 3, "name": "p", "flag": True, "n": 4,
                              "opt": None},
                    search_space=lambda: space)
    d = declarations(spec)
    assert d["a"].describe() == "float > 0"          # log range
    assert d["n"].describe() == "int >= 1"           # int range from >= 1
    assert d["k"].describe() == "int >= 1"           # positive int choices
    assert d["mode"].describe() == "one of 'x', 'y'"  # identifier choices: a closed set
    assert d["cells"].describe() == "a list of int (or one int, or 'a,b')"  # "64,64" choices
    assert d["w"].describe() == "float"              # a range through 0: no bound
    assert d["depth"].describe() == "int"
    assert d["flag"].describe() == "bool"
    assert d["name"].describe() == "text"
    assert d["opt"].describe() == "any value"        # only null is known


def test_presets_relax_a_derived_bound_and_drop_a_broken_convention():
    spec = toy_spec(defaults={"alpha": 0.5, "dropout": [0.1, 0.2]},
                    variants={"zero": {"alpha": 0.0}},
                    search_space=lambda: {"alpha": FloatDistribution(0.01, 1.0, log=True)})
    d = declarations(spec)
    assert d["alpha"].describe() == "float >= 0"  # a variant uses 0.0
    assert "list" in d["dropout"].types           # not the float convention
    assert check_presets(spec) == []


def test_an_explicit_declaration_wins():
    spec = toy_spec(defaults={"gamma": "scale"},
                    hyperparameters={"gamma": Param(types=("str",), choices=("scale", "auto"))})
    assert check_values(spec, {"gamma": "x"})[1] == ["gamma='x': expected one of 'scale', "
                                                      "'auto' (model spec)"]
    bad = dataclasses.replace(spec, hyperparameters={"gamma": "str"})
    assert any("not a serbench.hyperparameters.Param" in p for p in bad.validate())


def test_a_space_override_outside_the_declared_range_is_refused():
    from serbench.run.config import RunConfig
    from serbench.tuning.study import TuneConfig, effective_space

    spec = get_registry().model("bilstm_att")
    config = TuneConfig(run=RunConfig(model="bilstm_att"),
                        space_overrides={"dropout": FloatDistribution(0.0, 2.0)})
    with pytest.raises(ConfigError, match=r"dropout: reaches 2.0; expected float in \[0, 1\)"):
        effective_space(spec, config, "tpe")
    ok = dataclasses.replace(config, space_overrides={"dropout": FloatDistribution(0.0, 0.9)})
    assert effective_space(spec, ok, "tpe")[0]["dropout"].high == 0.9


def test_tune_refuses_bad_fixed_values_before_creating_a_study(runs, capsys):
    with pytest.raises(SystemExit) as info:
        main(["tune", "--model", "svm", "--set", "C=abc", "--runs-dir", str(runs), "-q"])
    assert info.value.code == 2
    assert "C='abc': expected float > 0" in capsys.readouterr().err
    assert not (runs / "studies").exists()
