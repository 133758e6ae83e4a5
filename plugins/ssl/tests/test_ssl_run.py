"""`serbench run` with the layer-weighted head on a tiny local WavLM, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _ssl_tiny import HIDDEN, LAYERS, save_tiny
from click.testing import CliRunner
from serbench.cli import cli
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture
def env(tmp_path, monkeypatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


def test_layer_weighted_head_on_a_tiny_wavlm(env) -> None:
    csv = write_tiny_corpus(env / "tiny", speakers=3, per_speaker=4)
    wavlm = save_tiny(env / "wavlm", "wavlm")
    args = ["run", "--model", "ssl_head", "--feature", "ssl",
            "--feature-param", f"model={wavlm}", "--feature-param", "layer=all",
            "--corpus", "manifest", "--data", str(csv), "--protocol", "loso-speaker",
            "--set", "projection=8", "--set", "batch_size=4", "--max-epochs", "1",
            "--threads", "1", "-q"]
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exit_code == 0, result.output + repr(result.exception)
    (folder,) = [p for p in (env / "runs").iterdir() if p.is_dir()]
    record = json.loads((folder / "record.json").read_text())
    assert record["status"] == "complete"
    assert record["model"]["name"] == "ssl_head" and record["model"]["distribution"] == "serbench-ssl"
    feature = record["feature"]
    assert feature["name"] == "ssl" and feature["params"]["layer"] == "all"
    assert feature["dim"] == (LAYERS + 1) * HIDDEN and feature["normalisation"] == "none"
    assert feature["backend"]["model_type"] == "wavlm"
    assert len(record["folds"]) == 3 and all(f["epochs_run"] == 1 for f in record["folds"])
