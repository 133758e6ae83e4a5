"""``serbench run --config FILE`` and ``--seeds``: experiment files, flag precedence, the
round trip through a run folder's ``config.json``, one run per seed."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.cli.config_file import config_option, merged_mappings
from serbench.cli.experiment_options import (
    SeedList,
    experiment_options,
    run_config,
    seeds_of,
    seeds_option,
)
from serbench.errors import ConfigError
from serbench.testing.corpora import write_tiny_corpus


@click.command("probe")
@config_option
@experiment_options("override")
@seeds_option
@click.option("--threads", type=int)
def probe(threads, **options) -> None:
    """Prints the RunConfig the options build (what `serbench run` would run)."""
    ctx = click.get_current_context()
    options = merged_mappings(ctx, options)
    config = run_config(options)
    click.echo(json.dumps({"model": config.model, "seed": config.seed, "seeds": seeds_of(ctx, options),
                           "overrides": dict(config.overrides), "device": config.device,
                           "corpus_options": dict(config.corpus_options),
                           "max_epochs": config.max_epochs, "data": str(config.data),
                           "threads": threads}))


def _probe(*args: str) -> dict:
    result = CliRunner().invoke(probe, list(args), catch_exceptions=True)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.output)


def test_file_settings_and_flags_that_win(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text('model = "svm"\nmax-epochs = 3\nseed = 4\ndata = "corpus.csv"\n'
                   'threads = 2\n[set]\nC = 2.0\nkernel = "linear"\n'
                   '[corpus_options]\nsize = 3\n')
    got = _probe("--config", str(exp))
    assert got["model"] == "svm" and got["max_epochs"] == 3 and got["seed"] == 4
    assert got["overrides"] == {"C": 2.0, "kernel": "linear"} and got["threads"] == 2
    assert got["corpus_options"] == {"size": "3"}  # a string, as --corpus-option gives
    assert got["data"] == str(tmp_path / "corpus.csv")  # relative to the file
    # a flag wins; a --set flag replaces only its own key
    got = _probe("--config", str(exp), "--seed", "7", "--set", "C=0.5", "--max-epochs", "9")
    assert got["seed"] == 7 and got["max_epochs"] == 9
    assert got["overrides"] == {"C": 0.5, "kernel": "linear"}


def test_yaml_and_seed_lists(tmp_path):
    exp = tmp_path / "exp.yaml"
    exp.write_text("model: svm\nseeds: [0, 2, 5]\nset:\n  C: 3\n")
    got = _probe("--config", str(exp))
    assert got["seeds"] == [0, 2, 5] and got["overrides"] == {"C": 3}
    assert _probe("--config", str(exp), "--seeds", "1-3")["seeds"] == [1, 2, 3]
    assert _probe("--config", str(exp), "--seed", "9")["seeds"] == [9]  # the flag wins
    exp.write_text("model: svm\nseed: 4\n")
    assert _probe("--config", str(exp), "--seeds", "0,1")["seeds"] == [0, 1]


def test_unknown_key_names_the_key_the_file_and_the_known_keys(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text('model = "svm"\nmax_epoch = 3\n')
    result = CliRunner().invoke(probe, ["--config", str(exp)])
    assert isinstance(result.exception, ConfigError)
    message = str(result.exception)
    assert "'max_epoch'" in message and str(exp) in message
    assert "max_epochs" in message and "set" in message


def test_bad_value_names_the_key_and_the_file(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text('model = "svm"\ndevice = "gpu"\n')
    result = CliRunner().invoke(probe, ["--config", str(exp)])
    assert isinstance(result.exception, ConfigError)
    assert "'device'" in str(result.exception) and str(exp) in str(result.exception)


def test_seed_and_seeds_together_are_refused(tmp_path):
    result = CliRunner().invoke(probe, ["--model", "svm", "--seed", "1", "--seeds", "0,1"])
    assert isinstance(result.exception, ConfigError) and "give one of them" in str(result.exception)


@pytest.mark.parametrize("text, seeds", [("0,1,2", [0, 1, 2]), ("3", [3]), ("0-2,7", [0, 1, 2, 7])])
def test_seed_list(text, seeds):
    assert SeedList().convert(text, None, None) == seeds


@pytest.mark.parametrize("text", ["a", "1,1", ""])
def test_bad_seed_lists(text):
    with pytest.raises(click.BadParameter):
        SeedList().convert(text, None, None)


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


def _run(*args: str):
    result = CliRunner().invoke(cli, ["run", *args], catch_exceptions=True)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return "".join(result.output.split())  # rich wraps long paths


def test_seeds_then_config_json_round_trip(env):
    csv = write_tiny_corpus(env / "tiny", speakers=3, per_speaker=4)
    exp = env / "exp.toml"
    exp.write_text(f'model = "svm"\ncorpus = "manifest"\ndata = "{csv}"\n'
                   'protocol = "loso-speaker"\nseeds = [0, 1]\nquiet = true\n'
                   '[set]\nC = 2.0\n')
    result = _run("--config", str(exp))
    runs = sorted(p for p in (env / "runs").iterdir())
    assert [p.name.split("-")[-2] for p in runs] == ["s0", "s1"]
    assert "pooledUAover2seeds" in result
    first = json.loads((runs[0] / "record.json").read_text())
    assert first["model"]["hyperparameters"]["C"] == 2.0
    assert "--seeds" not in first["command"] and "--config" not in first["command"]
    # the run folder's config.json is a valid --config: same run id, nothing re-run
    again = _run("--config", str(runs[1] / "config.json"))
    assert "alreadycomplete" in again and runs[1].name in again
    assert sorted(p.name for p in (env / "runs").iterdir()) == [p.name for p in runs]
    # and a flag still wins over it (another seed: another run id)
    other = _run("--config", str(runs[1] / "config.json"), "--seed", "5")
    assert not any(p.name in other for p in runs)
    assert len(list((env / "runs").iterdir())) == 3


def test_config_json_keeps_every_resolved_setting(env):
    """The translation of config.json names the model's resolved settings explicitly."""
    from serbench.cli.config_file import read_settings_file

    doc = {"run_id": "x", "data": "/d", "max_epochs_override": 2, "device_requested": "cpu",
           "identity": {"model": {"name": "m", "version": 1, "variant": "v"},
                        "hyperparameters": {"lr": 0.1},
                        "corpus": {"name": "c", "label_map": "4class", "options": {"a": "1"}},
                        "protocol": {"name": "loso", "options": {"k": 2}, "folds": ["f1", "f2"]},
                        "feature": {"name": "egemaps", "params": {"p": 1},
                                    "normalisation": "speaker"},
                        "seed": 3}}
    path = env / "config.json"
    path.write_text(json.dumps(doc))
    assert read_settings_file(Path(path)) == {
        "model": "m", "variant": "v", "corpus": "c", "data": "/d", "corpus_options": {"a": "1"},
        "label_map": "4class", "protocol": "loso", "protocol_options": {"k": 2},
        "feature": "egemaps", "feature_params": {"p": 1}, "normalisation": "speaker",
        "overrides": {"lr": 0.1}, "seed": 3, "max_epochs": 2, "device": "cpu",
        "folds": "f1,f2"}


def test_tune_evaluate_best_runs_the_best_configuration_once_per_seed(env):
    csv = write_tiny_corpus(env / "tiny", speakers=4, per_speaker=8)
    args = ["tune", "--model", "svm", "--corpus", "manifest", "--data", str(csv), "--protocol",
            "loso-speaker", "--trials", "2", "--no-plots", "-q"]
    refused = CliRunner().invoke(cli, [*args, "--seeds", "0,1"])
    assert isinstance(refused.exception, ConfigError)
    assert "--evaluate-best" in str(refused.exception)
    result = CliRunner().invoke(cli, [*args, "--evaluate-best", "--seeds", "0,1"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    runs = sorted(p for p in (env / "runs").iterdir() if p.name != "studies")
    assert [p.name.split("-")[-2] for p in runs] == ["s0", "s1"]
    records = [json.loads((p / "record.json").read_text()) for p in runs]
    assert records[0]["model"]["hyperparameters"] == records[1]["model"]["hyperparameters"]
    assert all(r["tuning"]["study"] == records[0]["tuning"]["study"] for r in records)
    assert [r["command"][r["command"].index("--seed") + 1] for r in records[1:]] == ["1"]


def test_a_config_json_fold_list_gives_way_to_another_protocol(tmp_path):
    from serbench.cli.run_cmd import _folds_of_file_kept

    @click.command()
    @config_option
    @experiment_options("override")
    @click.option("--folds")
    def folds_probe(folds, **options) -> None:
        click.echo(repr(_folds_of_file_kept(click.get_current_context(), folds)))

    exp = tmp_path / "exp.toml"
    exp.write_text('model = "svm"\nprotocol = "loso"\nfolds = "Ses01,Ses02"\n')

    def folds_of(*args: str) -> str:
        result = CliRunner().invoke(folds_probe, ["--config", str(exp), *args])
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output.strip()

    assert folds_of() == "'Ses01,Ses02'"
    assert folds_of("--seed", "3") == "'Ses01,Ses02'"
    assert folds_of("--protocol", "kfold") == "None"  # the file's folds are loso's
    assert folds_of("--protocol", "kfold", "--folds", "f1") == "'f1'"
