"""Suite files (serbench/campaign/suite.py) and their plan (serbench/campaign/plan.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from serbench.campaign.executors.slurm import sbatch_parameters
from serbench.campaign.plan import plan
from serbench.campaign.suite import Resources, SuiteError, load_suite
from serbench.plugins import get_registry
from serbench.run.config import RunConfig
from serbench.run.folder import RunFolder
from serbench.run.pipeline import run_folder_for
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory):
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=3, per_speaker=4)


def _suite(tmp_path, text: str):
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


def test_every_bad_entry_is_listed_at_once(tmp_path):
    path = _suite(tmp_path, """
[campaign]
name = "bad"
colour = "red"
device = "tpu"

[[benchmarks]]
corpus = "synthetik"
protocol = "loso-speakers"

[[models]]
name = "svm"
features = ["egemaps", "egemapz"]
set = { C = 1.0, gamma_x = 2 }
resources = { cpus = 0, sbatch = ["qos=short"] }

[[models]]
name = "ar_gru"
variants = ["iaan", "ar_gru_vi"]
seeds = [1, 1]
normalisation = "per-speaker"

[[models]]
name = "no_such_model"
""")
    with pytest.raises(SuiteError) as info:
        load_suite(path, get_registry())
    text = str(info.value)
    assert str(path) in text and "nothing was run" in text
    for expected in (
        "campaign.colour: unknown key",
        "benchmarks[0].corpus: unknown corpus 'synthetik'; did you mean 'synthetic'?",
        "benchmarks[0].protocol: unknown protocol 'loso-speakers'",
        "models[0].features[1]: unknown feature 'egemapz'",
        "models[0].set.gamma_x: not a hyperparameter of 'svm'",
        "models[0].resources.cpus: give a positive integer",
        "models[0].resources.sbatch",
        "models[1].variants[1]: model 'ar_gru' has no variant 'ar_gru_vi'",
        "models[1].seeds",
        "campaign.device: 'tpu'",
        "models[1].normalisation: 'per-speaker'",
        "models[2].name: unknown model 'no_such_model'",
    ):
        assert expected in text, expected
    assert "known: " in text and "iaan" in text  # the known names are listed
    assert "models[0].features[0]" not in text  # the good entries are not


def test_resources_merge_and_become_sbatch_parameters(tmp_path, tiny_csv):
    path = _suite(tmp_path, f"""
[resources]
cpus = 2
time_min = 30
partition = "cpu"
sbatch = ["--qos=short", "--exclusive"]

[[benchmarks]]
corpus = "manifest"
data = "{tiny_csv}"
protocol = "loso-speaker"

[[models]]
name = "svm"
resources = {{ mem_gb = 4, gpus = 1 }}
""")
    suite = load_suite(path, get_registry())
    res = suite.models[0].resources
    assert res == Resources(cpus=2, gpus=1, mem_gb=4, time_min=30, partition="cpu",
                            sbatch=("--qos=short", "--exclusive"))
    params = sbatch_parameters(res, "serbench:x")
    assert params["cpus_per_task"] == 2 and params["gpus_per_node"] == 1
    assert params["mem"] == 4 and params["time"] == 30 and params["partition"] == "cpu"
    assert params["additional_parameters"] == {"hold": True, "qos": "short", "exclusive": True}


def test_plan_gives_the_run_ids_of_serbench_run_and_their_status(tmp_path, tiny_csv):
    runs_dir = tmp_path / "runs"
    path = _suite(tmp_path, f"""
[campaign]
name = "tiny"
seeds = [0, 1]

[[benchmarks]]
corpus = "manifest"
data = "{tiny_csv}"
protocol = "loso-speaker"

[[models]]
name = "svm"
sets = [{{ C = 1.0 }}, {{ C = 2.0 }}, {{ C = 1.0 }}]
""")
    registry = get_registry()
    runs = plan(load_suite(path, registry), runs_dir, registry)
    assert len(runs) == 4  # the repeated set resolves to runs already planned
    # two C values share model/corpus/seed: each label carries its run id's hash
    assert [r.label for r in runs] == [f"svm/manifest/s{r.seed}#{r.run_id[-8:]}"
                                       for r in runs]
    assert [r.seed for r in runs] == [0, 1, 0, 1] and len({r.label for r in runs}) == 4
    for run in runs:
        expected = run_folder_for(RunConfig(model="svm", corpus="manifest", data=tiny_csv,
                                            protocol="loso-speaker", seed=run.seed,
                                            overrides=run.settings["set"], runs_dir=runs_dir))
        assert run.run_id == expected.run_id
        assert run.status == "todo" and run.leaderboard == "manifest-all-loso-speaker"
    # a finished run is done, a started one partial; past durations give estimates
    done, partial = RunFolder(runs_dir / runs[0].run_id), RunFolder(runs_dir / runs[1].run_id)
    for folder in (done, partial):
        folder.root.mkdir(parents=True)
        folder.write_config({"identity": runs[0].identity})
    done.record_path.write_text("{}")
    now = time.time()
    os.utime(done.config_path, (now - 30, now - 30))
    again = plan(load_suite(path, registry), runs_dir, registry)
    assert [r.status for r in again] == ["done", "partial", "todo", "todo"]
    assert again[1].estimate_s == pytest.approx(30, abs=2)  # same configuration, other seed
    assert again[2].estimate_s is None  # C=2.0 never ran


def test_a_combination_that_cannot_run_stops_the_plan(tmp_path, tiny_csv):
    path = _suite(tmp_path, f"""
[[benchmarks]]
corpus = "manifest"
data = "{tiny_csv}"
label_map = "7class"

[[models]]
name = "svm"
""")
    registry = get_registry()
    with pytest.raises(SuiteError) as info:
        plan(load_suite(path, registry), tmp_path / "runs", registry)
    assert "svm/manifest/s0" in str(info.value) and "7class" in str(info.value)
    assert not (tmp_path / "runs").exists()


def test_relative_data_is_anchored_at_the_suite_file_even_from_a_relative_suite_path(
    tmp_path, tiny_csv, monkeypatch
):
    # Run configs are written under runs/campaigns/<name>/configs/ and read from there, so
    # a data path left relative (suite given as a relative path) would point nowhere.
    suites = tmp_path / "suites"
    suites.mkdir()
    relative_data = os.path.relpath(tiny_csv, suites)
    _suite(suites, f"""
[[benchmarks]]
corpus = "manifest"
data = "{relative_data}"
protocol = "loso-speaker"

[[models]]
name = "svm"
""")
    monkeypatch.chdir(tmp_path)
    suite = load_suite(Path("suites/suite.toml"), get_registry())
    data = suite.benchmarks[0].data
    assert data.is_absolute() and data.resolve() == tiny_csv.resolve()
