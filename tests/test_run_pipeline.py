"""The run pipeline: the record's fields, the run folder, resume and its checks.

Features come from an in-memory table (``run_experiment(features=...)``) so these tests
train a tiny BiLSTM for 2 epochs per fold on 3 speakers and read no audio.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from _run_helpers import TINY_HPARAMS, documented_record, missing_fields, toy_registry, toy_table

from serbench.errors import ConfigError
from serbench.run.config import RunConfig
from serbench.run.pipeline import RunInterrupted, run_experiment
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.chdir(tmp_path)  # not a git repository: git_commit is null
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=3, per_speaker=4)


@pytest.fixture(scope="module")
def registry():
    return toy_registry()


@pytest.fixture(scope="module")
def frames(tiny_csv):
    return toy_table(tiny_csv, "frames")


def config(csv: Path, **kw) -> RunConfig:
    base = dict(model="bilstm_att", corpus="manifest", data=csv, protocol="loso-speaker",
                feature="toy_frames", overrides=TINY_HPARAMS, max_epochs=2, device="cpu")
    base.update(kw)
    return RunConfig(**base)


def run(cfg, registry, frames, **kw):
    return run_experiment(cfg, registry=registry, progress=False, features=frames,
                          command=["serbench", "run", "--model", cfg.model], **kw)


def test_record_has_every_documented_field(env, tiny_csv, registry, frames):
    record = run(config(tiny_csv), registry, frames)
    assert list(record) == list(documented_record())  # same keys, same order
    assert missing_fields(documented_record(), record) == []
    assert record["schema_version"] == 1 and record["status"] == "complete"
    assert record["run_id"].startswith("bilstm_att-manifest-loso-speaker-s0-")
    assert record["git_commit"] is None  # the test's cwd is not a repository
    assert record["libraries"]["torch"] and record["libraries"]["python"]
    assert record["corpus"]["classes"] == ["angry", "happy", "neutral", "sad"]
    assert record["corpus"]["n_utterances"] == 12 and record["corpus"]["n_speakers"] == 3
    assert record["protocol"]["n_folds"] == 3 and len(record["protocol"]["split_hash"]) == 16
    assert record["protocol"]["speaker_independent"] is True
    assert record["protocol"]["folds_selected"] is None
    assert record["feature"]["normalisation"] == "speaker"  # bilstm_att's preferred
    assert record["model"]["distribution"] == "serbench"
    assert record["model"]["hyperparameters"]["hidden"] == 8
    assert record["model"]["hyperparameters"]["max_epochs"] == 2
    assert record["model"]["n_parameters"] > 0
    assert record["training"]["config"]["max_epochs"] == 2
    fold = record["folds"][0]
    assert fold["test_speakers"] == ["spk01"] and "spk01" not in fold["train_speakers"]
    assert fold["epochs_run"] == 2 and len(fold["curve"]) == 2
    assert 0 <= record["aggregate"]["mean"]["ua"] <= 1
    assert record["aggregate"]["pooled"]["confusion"]
    assert record["timing"]["clock"] == "cpu_monotonic"
    assert record["timing"]["peak_memory_kind"] == "process_rss"

    folder = env / "runs" / record["run_id"]
    assert json.loads((folder / "record.json").read_text()) == record
    assert json.loads((folder / "config.json").read_text())["run_id"] == record["run_id"]
    assert sorted(p.name for p in (folder / "folds").glob("*.json")) == [
        "spk01.json", "spk02.json", "spk03.json"]
    assert all((folder / f"model_{s}.pt").is_file() for s in ("spk01", "spk02", "spk03"))
    preds = pl.read_parquet(folder / "predictions.parquet")
    assert preds.columns[:5] == ["utt_id", "fold", "speaker", "label", "pred"]
    assert {f"score_{c}" for c in record["corpus"]["classes"]} <= set(preds.columns)
    assert preds.height == 12 and preds["utt_id"].n_unique() == 12
    assert (preds.filter(pl.col("fold") == "spk02")["speaker"] == "spk02").all()


def test_interrupted_run_resumes_only_missing_folds(env, tiny_csv, registry, frames):
    calls = []

    def interrupt_in_fold_two(epoch, metrics):
        calls.append(epoch)
        if len(calls) == 3:  # fold 1 ran epochs 1-2; this is fold 2's first epoch
            raise KeyboardInterrupt

    cfg = config(tiny_csv)
    with pytest.raises(RunInterrupted) as info:
        run(cfg, registry, frames, callbacks=[interrupt_in_fold_two])
    assert info.value.done == 1 and info.value.total == 3
    assert "--resume" in info.value.resume_command
    folder = info.value.run_dir
    first = folder / "folds" / "spk01.json"
    assert first.is_file() and not (folder / "folds" / "spk02.json").exists()
    assert not (folder / "record.json").exists()
    stamp = first.stat().st_mtime_ns

    with pytest.raises(ConfigError, match="Add --resume"):
        run(cfg, registry, frames)

    trained: list[str] = []
    resumed = run(RunConfig(**{**cfg.__dict__, "resume": True}), registry, frames,
                  fold_callbacks=[lambda entry: trained.append(entry["name"])])
    assert trained == ["spk02", "spk03"]  # fold 1 was not re-run
    assert first.stat().st_mtime_ns == stamp
    assert [f["name"] for f in resumed["folds"]] == ["spk01", "spk02", "spk03"]
    assert (folder / "record.json").is_file()


def test_resume_with_another_configuration_says_what_differs(env, tiny_csv, registry, frames):
    def stop(epoch, metrics):
        raise KeyboardInterrupt

    with pytest.raises(RunInterrupted):
        run(config(tiny_csv), registry, frames, callbacks=[stop])
    with pytest.raises(ConfigError) as info:
        run(config(tiny_csv, max_epochs=3, resume=True), registry, frames)
    message = str(info.value)
    assert "hyperparameters.max_epochs: 2 -> 3" in message
    assert "drop --resume" in message


def test_complete_run_is_reported_not_rerun(env, tiny_csv, registry, frames):
    first = run(config(tiny_csv, folds=["spk01"]), registry, frames)
    assert first["protocol"]["folds_selected"] == ["spk01"]
    trained: list[str] = []
    again = run(config(tiny_csv, folds=["spk01"]), registry, frames,
                fold_callbacks=[lambda e: trained.append(e["name"])])
    assert trained == [] and again == first
    forced = run(config(tiny_csv, folds=["spk01"], force=True), registry, frames,
                 fold_callbacks=[lambda e: trained.append(e["name"])])
    assert trained == ["spk01"] and forced["run_id"] == first["run_id"]


def test_bad_input_writes_no_run_folder(env, tiny_csv, registry, frames):
    with pytest.raises(ConfigError):
        run(config(tiny_csv, overrides={"no_such_knob": 1}), registry, frames)
    assert not (env / "runs").exists()


def test_locate_run_names_a_missing_absolute_path(tmp_path):
    from serbench.errors import ConfigError
    from serbench.run.folder import locate_run

    (tmp_path / "runs").mkdir()
    with pytest.raises(ConfigError, match="no run"):
        locate_run(tmp_path / "nowhere", runs_dir=tmp_path / "runs")
