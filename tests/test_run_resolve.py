"""Bad input stops before training, with a message naming the cause; resolution order."""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import polars as pl
import pytest
from _run_helpers import toy_plugin, toy_registry, toy_table

from serbench import hookimpl
from serbench.errors import ConfigError, ManifestError, SerbenchError, UnknownComponentError
from serbench.plugins import Registry, make_plugin_manager
from serbench.run.config import RunConfig
from serbench.run.options import parse_assignments, parse_value
from serbench.run.resolve import resolve_run
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=3, per_speaker=4)


@pytest.fixture(scope="module")
def registry():
    return toy_registry()


def config(csv: Path, **kw) -> RunConfig:
    base = dict(model="bilstm_att", corpus="manifest", data=csv, protocol="loso-speaker",
                feature="toy_frames")
    base.update(kw)
    return RunConfig(**base)


def test_parse_values_yaml_typed():
    assert parse_assignments(["lr=1e-3", "hidden=[64, 32]", "bi=false", "name=x", "n=3"],
                             "--set") == {"lr": 0.001, "hidden": [64, 32], "bi": False,
                                          "name": "x", "n": 3}
    assert parse_value("0.5") == 0.5 and parse_value("null") is None
    with pytest.raises(ConfigError, match="--set 'oops' must look like KEY=VALUE"):
        parse_assignments(["oops"], "--set")


def test_resolution_order(env, tiny_csv, registry):
    res = resolve_run(config(tiny_csv, variant="frontend", overrides={"hidden": 8},
                             max_epochs=2), registry)
    assert res.hparams["hidden"] == 8  # --set beats the defaults
    assert res.hparams["fc_layers"] == 2  # the variant beats the defaults
    assert res.hparams["max_epochs"] == 2  # the reduced epoch budget beats everything
    assert res.hparams["dropout"] == 0.3  # model default
    assert res.normalisation == "speaker" and res.sources["normalisation"] == "model preferred"
    assert res.sources["protocol"] == "--protocol"
    assert res.label_map == "all" and res.sources["label_map"] == "corpus default"
    assert res.classes == ["angry", "happy", "neutral", "sad"]
    assert [f.name for f in res.folds] == ["spk01", "spk02", "spk03"]
    assert len(res.split_hash) == 16 and len(res.fingerprint) == 16
    res2 = resolve_run(config(tiny_csv, normalisation="global", protocol=None), registry)
    assert res2.normalisation == "global" and res2.sources["normalisation"] == "--normalisation"
    assert res2.protocol_entry.spec.name == "loso-speaker"  # the corpus default


@pytest.mark.parametrize(
    ("change", "error", "pattern"),
    [
        ({"model": "bilstm_at"}, UnknownComponentError, "Did you mean 'bilstm_att'"),
        ({"protocol": "loso_speaker"}, UnknownComponentError, "Did you mean 'loso-speaker'"),
        ({"feature": "toy_frame"}, UnknownComponentError, "Did you mean 'toy_frames'"),
        ({"variant": "frontendd"}, ConfigError, "no variant 'frontendd'.*Its variants: frontend"),
        ({"overrides": {"hiden": 8}}, ConfigError,
         r"not a hyperparameter.*did you mean 'hidden'.*Known: .*batch_size"),
        ({"model": "svm", "feature": "toy_functionals", "overrides": {"c": 2.0}}, ConfigError,
         "'c' \\(did you mean 'C'\\?\\).*Known: C, fit_on_valid, gamma, kernel"),
        ({"label_map": "4class"}, ConfigError, "no label map '4class'.*all"),
        ({"normalisation": "zscore"}, ConfigError, "normalisation 'zscore'"),
        ({"folds": ["spk09"]}, ConfigError, "no such fold.*spk01"),
    ],
)
def test_bad_names_stop_before_training(env, tiny_csv, registry, change, error, pattern):
    with pytest.raises(error, match=pattern):
        resolve_run(config(tiny_csv, **change), registry)


def test_missing_data_path(env, tmp_path, registry):
    with pytest.raises(SerbenchError, match="no_such.csv"):
        resolve_run(config(tmp_path / "no_such.csv"), registry)


def test_manifest_bad_rows_all_reported(env, tmp_path, registry):
    csv = write_tiny_corpus(tmp_path / "bad", speakers=2, per_speaker=4)
    lines = csv.read_text().splitlines()
    lines[1] = lines[1].replace(".wav", "_gone.wav")
    lines[2] = lines[2].replace(".wav", "_gone.wav")
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(ManifestError) as info:
        resolve_run(config(csv), registry)
    assert len(info.value.problems) == 2 and "missing audio file" in str(info.value)


def test_label_map_leaving_a_class_empty(env, tiny_csv, registry):
    options = {"map.four": "angry:angry,happy:happy,sad:sad,bored:bored"}
    with pytest.raises(SerbenchError, match="label map 'four'.*'bored'"):
        resolve_run(config(tiny_csv, corpus_options=options, label_map="four"), registry)


def test_fold_without_test_speakers(env, tmp_path, registry):
    # one speaker: leave-one-speaker-out has nobody left to train on
    csv = write_tiny_corpus(tmp_path / "one", speakers=1, per_speaker=8)
    with pytest.raises(ConfigError, match="fold"):
        resolve_run(config(csv), registry)


def test_missing_default_corpus_is_explained(env, registry, monkeypatch):
    from serbench.plugins import Registry, make_plugin_manager

    reg = Registry(make_plugin_manager(disable={"synthetic"}))
    with pytest.raises(ConfigError, match="'synthetic' is not registered.*--corpus manifest"):
        resolve_run(RunConfig(model="svm"), reg)


def test_paper_protocol_the_corpus_cannot_use_falls_back_to_its_default(env, tmp_path, registry):
    # ar_gru prefers `loso` (sessions); a corpus without a session column gets its own
    # default protocol instead, and the record's sources say why.
    full = pl.read_csv(write_tiny_corpus(tmp_path / "t", speakers=3, per_speaker=4))
    csv = tmp_path / "t" / "no_sessions.csv"
    full.drop("session").write_csv(csv)
    res = resolve_run(RunConfig(model="ar_gru", corpus="manifest", data=csv,
                                feature="toy_frames"), registry)
    assert res.protocol_entry.spec.name == "loso-speaker"
    assert "corpus default" in res.sources["protocol"] and "'loso'" in res.sources["protocol"]
    with pytest.raises(ConfigError, match="protocol 'loso' \\(from --protocol\\)"):
        resolve_run(RunConfig(model="ar_gru", corpus="manifest", data=csv, protocol="loso",
                              feature="toy_frames"), registry)


def test_a_per_corpus_preferred_layer_applies_on_that_corpus_only(env, tiny_csv, dummy_model_spec):
    """``preferred[<corpus>]`` beats the flat ``preferred`` keys on that corpus (and only
    there); an explicit ``--feature-param`` beats it."""
    spec = dataclasses.replace(dummy_model_spec, default_feature="toy_frames", preferred={
        "normalisation": "speaker",
        "manifest": {"normalisation": "global", "feature_params": {"trim_silence": 6}},
        "iemocap": {"normalisation": "none"},
    })
    models = types.SimpleNamespace(register_models=hookimpl(lambda register: register(spec)))
    registry = Registry(make_plugin_manager(extra_plugins=[
        ("toy_features", toy_plugin()), ("per_corpus_model", models)]))
    run = RunConfig(model="dummy", corpus="manifest", data=tiny_csv, protocol="loso-speaker")
    res = resolve_run(run, registry)
    assert res.feature_params == {"trim_silence": 6}
    assert res.sources["feature_params"] == "model preferred (manifest)"
    assert res.normalisation == "global" and res.sources["normalisation"] == "model preferred (manifest)"
    off = resolve_run(dataclasses.replace(run, feature_params={"trim_silence": None}), registry)
    assert off.feature_params == {"trim_silence": None}  # --feature-param beats the layer


def test_a_model_without_a_declared_normalisation_gets_speaker_where_there_are_speakers(
        env, tiny_csv, tmp_path):
    from serbench.components import ModelSpec
    from serbench.run.resolve import default_normalisation

    @hookimpl
    def register_models(register):  # the testing kit's dummy model, no `preferred`
        register(ModelSpec(name="dummy", version=1, description="mean-pooled frames",
                           builder="serbench.testing.dummy:build", framework="torch",
                           level="frames", defaults={"hidden": 8, "max_epochs": 1}))

    reg = Registry(make_plugin_manager(extra_plugins=[
        ("toy_features", toy_plugin()),
        ("dummy_model", types.SimpleNamespace(register_models=register_models))]))
    res = resolve_run(config(tiny_csv, model="dummy"), reg)
    assert res.normalisation == "speaker"
    assert res.sources["normalisation"].startswith("serbench default") and \
        "3 speakers" in res.sources["normalisation"]
    one = pl.DataFrame({"utt_id": ["a", "b"], "speaker": ["s1", "s1"]})
    assert default_normalisation(one)[0] == "global"
    explicit = resolve_run(config(tiny_csv, model="dummy", normalisation="utterance"), reg)
    assert explicit.normalisation == "utterance"
    # the run says so, and the record keeps where it came from
    from rich.console import Console

    from serbench.run.pipeline import run_experiment

    console = Console(record=True, width=200)
    record = run_experiment(config(tiny_csv, model="dummy"), registry=reg, progress=False,
                            console=console, features=toy_table(tiny_csv))
    assert "normalisation: speaker (serbench default" in console.export_text()
    assert record["feature"]["normalisation"] == "speaker"
    assert record["feature"]["normalisation_source"].startswith("serbench default")
