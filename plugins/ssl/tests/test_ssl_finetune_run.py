"""`serbench run --model ssl_finetune --feature waveform` on a tiny local WavLM, end to end,
and the pairing errors that stop a run before any audio is read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from _ssl_tiny import save_tiny
from click.testing import CliRunner
from serbench.audio import read_audio
from serbench.cli import cli
from serbench.corpora.api import corpus_fingerprint, load_corpus
from serbench.errors import ConfigError
from serbench.features.cache import load_features
from serbench.inference.export import export_run
from serbench.inference.predict import predict_files
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture
def env(tmp_path, monkeypatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


def _run(args: list[str]):
    return CliRunner().invoke(cli, ["run", *args, "--threads", "1", "-q"], catch_exceptions=True)


def _said(result) -> str:
    return result.output + str(result.exception or "")


def test_finetuning_a_tiny_wavlm_on_audio(env) -> None:
    csv = write_tiny_corpus(env / "tiny", speakers=3, per_speaker=4)
    wavlm = save_tiny(env / "wavlm", "wavlm", normalize=True)
    result = _run(["--model", "ssl_finetune", "--feature", "waveform",
                   "--feature-param", "max_seconds=0.5", "--set", f"upstream={wavlm}",
                   "--set", "projection=8", "--set", "unfreeze_top=1", "--set", "batch_size=4",
                   "--corpus", "manifest", "--data", str(csv), "--protocol", "loso-speaker",
                   "--max-epochs", "1"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    (folder,) = [p for p in (env / "runs").iterdir() if p.is_dir()]
    record = json.loads((folder / "record.json").read_text())
    assert record["status"] == "complete"
    assert record["model"]["name"] == "ssl_finetune"
    feature = record["feature"]
    assert feature["name"] == "waveform" and feature["dim"] == 1
    assert feature["params"] == {"sample_rate": 16000, "max_seconds": 0.5}
    assert feature["normalisation"] == "none"
    assert len(record["folds"]) == 3 and all(f["epochs_run"] == 1 for f in record["folds"])
    # the cache holds each signal cropped to 0.5 s, one sample a frame, as decoded
    corpus = load_corpus("manifest", csv)
    table = load_features(corpus.manifest, "waveform", params=feature["params"],
                          fingerprint=corpus_fingerprint(corpus), progress=False)
    lengths = [table[u].shape for u in corpus.manifest["utt_id"]]
    assert all(n <= 8000 and d == 1 for n, d in lengths) and max(n for n, _ in lengths) == 8000
    signal, rate = read_audio(corpus.manifest["path"][0], 16000)
    first = np.asarray(table[corpus.manifest["utt_id"][0]])[:, 0]
    np.testing.assert_allclose(first, signal[: len(first)], atol=1e-6)
    # predict on a fold's test files gives that fold's test scores back
    predictions = pl.read_parquet(folder / "predictions.parquet")
    fold = record["folds"][0]["name"]
    rows = predictions.filter(pl.col("fold") == fold).sort("utt_id")
    paths = dict(zip(corpus.manifest["utt_id"], corpus.manifest["path"], strict=True))
    out = predict_files(folder, [paths[u] for u in rows["utt_id"]], folds=[fold])
    assert not out.failed
    classes = record["corpus"]["classes"]
    got = np.array([[r.probabilities[c] for c in classes] for r in out.rows])
    want = rows.select([f"score_{c}" for c in classes]).to_numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    with pytest.raises(ConfigError, match="reads audio"):  # export: frames/functionals only
        export_run(folder, fmt="torchscript")


def test_pairings_are_refused_before_any_work(env) -> None:
    csv = write_tiny_corpus(env / "tiny", speakers=3, per_speaker=4)
    common = ["--corpus", "manifest", "--data", str(csv), "--protocol", "loso-speaker"]
    wrong_feature = _run(["--model", "ssl_finetune", "--feature", "egemaps",
                          "--set", "upstream=/nowhere", *common])
    assert wrong_feature.exit_code != 0 and "use --feature waveform" in _said(wrong_feature)
    wrong_model = _run(["--model", "svm", "--feature", "waveform", *common])
    assert wrong_model.exit_code != 0 and "holds audio samples" in _said(wrong_model)
    wrong_rate = _run(["--model", "ssl_finetune", "--feature-param", "sample_rate=8000",
                       "--set", "upstream=/nowhere", *common])
    assert wrong_rate.exit_code != 0 and "sample_rate=8000" in _said(wrong_rate)
    assert not (env / "cache").exists() or not any((env / "cache").rglob("*.npy"))
