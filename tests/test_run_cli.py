"""``serbench run`` end to end through click's CliRunner, with the real components:
the tiny corpus on disk, openSMILE features, the real trainer and both reference models."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from _run_helpers import documented_record, missing_fields
from click.testing import CliRunner

from serbench.cli import cli
from serbench.errors import UnknownComponentError
from serbench.testing.corpora import write_tiny_corpus

TINY = ["--set", "hidden=8", "--set", "batch_size=8", "--max-epochs", "2"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=3, per_speaker=4)


def serbench(*args: str):
    return CliRunner().invoke(cli, ["run", *args], catch_exceptions=True)


def only_run(runs: Path) -> Path:
    (folder,) = [p for p in runs.iterdir() if p.is_dir()]
    return folder


def test_bilstm_att_end_to_end_then_resume(env, tiny_csv):
    args = ["--model", "bilstm_att", "--corpus", "manifest", "--data", str(tiny_csv),
            "--protocol", "loso-speaker", "-q", *TINY]
    result = serbench(*args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    for text in ("UA %", "WA %", "macro-F1 %", "mean ± std", "pooled", "train s/epoch",
                 "latency", "throughput", "parameters", "peak memory", "cpu_monotonic",
                 "record:"):
        assert text in result.output
    folder = only_run(env / "runs")
    record = json.loads((folder / "record.json").read_text())
    assert missing_fields(documented_record(), record) == []
    assert record["command"][:4] == ["serbench", "run", "--model", "bilstm_att"]
    assert "--max-epochs" in record["command"] and "--resume" not in record["command"]
    assert record["feature"]["name"] == "egemapsv02_windows"  # bilstm_att v2's default
    assert record["feature"]["level"] == "frames" and "opensmile" in record["feature"]["backend"]
    assert record["feature"]["normalisation"] == "speaker"
    assert [f["name"] for f in record["folds"]] == ["spk01", "spk02", "spk03"]
    assert pl.read_parquet(folder / "predictions.parquet").height == 12

    # lose fold 2 and the record, as if the run had been interrupted there
    (folder / "record.json").unlink()
    (folder / "folds" / "spk02.json").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in (folder / "folds").glob("spk0[13].json")}
    again = serbench(*args)
    assert again.exit_code != 0 and "--resume" in str(again.exception)
    resumed = serbench(*args, "--resume")
    assert resumed.exit_code == 0, resumed.output + repr(resumed.exception)
    assert "Resuming" in resumed.output and "1 of 3" not in resumed.output
    assert {p: (folder / "folds" / p).stat().st_mtime_ns for p in kept} == kept
    assert (folder / "folds" / "spk02.json").is_file() and (folder / "record.json").is_file()

    complete = serbench(*args)
    assert complete.exit_code == 0 and "already complete" in complete.output

    png = env / "curves.png"
    plotted = CliRunner().invoke(cli, ["plot", "curves", str(folder), "-o", str(png)])
    assert plotted.exit_code == 0, plotted.output
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_reproduce_prints_paper_beside_measured(env, tiny_csv, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps the headers of a narrow table
    result = CliRunner().invoke(cli, [
        "reproduce", "bilstm_att", "--corpus", "manifest", "--data", str(tiny_csv),
        "--protocol", "loso-speaker", "--folds", "spk01", "--set", "hidden=8",
        "--set", "batch_size=8", "--max-epochs", "1", "-q"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "UA % paper" in result.output and "UA % manifest" in result.output
    runs = sorted(p.name for p in (env / "runs").iterdir())
    assert [r.split("-")[:2] for r in runs] == [["bilstm_att", "frontend"],
                                                ["bilstm_att", "manifest"]]


def test_svm_end_to_end_and_interrupt_message(env, tiny_csv, monkeypatch):
    import serbench.training.fold as fold_module

    real = fold_module.run_fold
    calls = []

    def interrupt_second_fold(*a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(fold_module, "run_fold", interrupt_second_fold)
    args = ["--model", "svm", "--corpus", "manifest", "--data", str(tiny_csv),
            "--protocol", "loso-speaker", "-q"]
    stopped = serbench(*args)
    assert stopped.exit_code == 130
    assert "after 1 of 3 fold(s)" in stopped.output and "--resume" in stopped.output
    monkeypatch.setattr(fold_module, "run_fold", real)

    result = serbench(*args, "--resume")
    assert result.exit_code == 0, result.output + repr(result.exception)
    record = json.loads((only_run(env / "runs") / "record.json").read_text())
    assert missing_fields(documented_record(), record) == []
    assert record["model"]["framework"] == "sklearn" and record["feature"]["name"] == "egemaps"
    assert record["training"]["config"] is None
    assert 0 <= record["aggregate"]["pooled"]["ua"] <= 1


def test_unknown_model_stops_with_did_you_mean(env, tiny_csv):
    result = serbench("--model", "bilstm", "--corpus", "manifest", "--data", str(tiny_csv))
    assert isinstance(result.exception, UnknownComponentError)
    assert "Did you mean 'bilstm_att'" in str(result.exception)
    assert not (env / "runs").exists()


def test_threads_option_sets_torch_threads_and_is_recorded(env, tiny_csv):
    import torch

    before = torch.get_num_threads()
    try:
        args = ["--model", "svm", "--corpus", "manifest", "--data", str(tiny_csv),
                "--protocol", "loso-speaker", "-q", "--threads", "1"]
        result = serbench(*args)
        assert result.exit_code == 0, result.output + repr(result.exception)
        record = json.loads((only_run(env / "runs") / "record.json").read_text())
        assert record["training"]["cpu_threads"] == 1
        assert "--threads 1" in " ".join(record["command"])
        # the thread count is not part of the run's identity: the same run, complete
        again = serbench(*args[:-2], "--threads", "2")
        assert again.exit_code == 0 and len(list((env / "runs").iterdir())) == 1
    finally:
        torch.set_num_threads(before)
