"""ar_gru through serbench's run pipeline: context from the manifest, and a clear stop
on a corpus without dialogues (unless the user asks for empty context)."""

from __future__ import annotations

import types
from pathlib import Path

import polars as pl
import pytest
from _ar_gru_registry import isolated_registry
from serbench import hookimpl
from serbench.components import FeatureSpec
from serbench.errors import ConfigError
from serbench.plugins import Registry
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus
from serbench.testing.tables import synthetic_frames

TINY = {"hidden_size": 6, "attention_size": 4, "fc_size": 8, "batch_size": 4, "lr": 1e-2,
        "gru_implementation": "reference"}


def _toy_features_plugin() -> types.SimpleNamespace:
    @hookimpl
    def register_features(register):
        register(FeatureSpec(name="toy_frames", version=1, description="Toy frames for tests.",
                             extractor="serbench.testing.tables:synthetic_frames",
                             level="frames"))

    return types.SimpleNamespace(register_features=register_features)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def registry() -> Registry:
    return isolated_registry([("toy_features", _toy_features_plugin())])


def _corpus(root: Path, drop_dialogues: bool = False):
    csv = write_tiny_corpus(root, speakers=4, per_speaker=4, sessions=2)
    manifest = pl.read_csv(csv)
    if drop_dialogues:
        manifest = manifest.drop("dialog", "turn")
        manifest.write_csv(csv)
    labels = sorted(manifest["label"].unique().to_list())
    table = synthetic_frames(manifest["utt_id"].to_list(),
                             [labels.index(x) for x in manifest["label"].to_list()],
                             dim=4, max_len=6)
    return csv, table


def _run(csv: Path, table, registry: Registry, **overrides) -> dict:
    config = RunConfig(model="ar_gru", corpus="manifest", data=csv, protocol="loso",
                       feature="toy_frames", overrides={**TINY, **overrides}, max_epochs=2,
                       device="cpu")
    return run_experiment(config, registry=registry, progress=False, features=table)


def test_runs_with_dialogue_context(env: Path, registry: Registry) -> None:
    csv, table = _corpus(env / "tiny")
    record = _run(csv, table, registry)
    assert record["status"] == "complete"
    assert record["model"]["name"] == "ar_gru" and record["model"]["variant"] == "ar_gru_v"
    assert record["model"]["distribution"] == "serbench-ar-gru"
    assert record["model"]["hyperparameters"]["activation"] == "arelu"
    assert record["training"]["config"]["label_smoothing"] == 0.1
    assert record["feature"]["normalisation"] == "speaker"  # the paper's, from `preferred`
    assert len(record["folds"]) == 2 and all(f["epochs_run"] == 2 for f in record["folds"])


def test_corpus_without_dialogues_is_refused_unless_asked(env: Path, registry: Registry) -> None:
    csv, table = _corpus(env / "flat", drop_dialogues=True)
    with pytest.raises(ConfigError, match="allow_empty_context"):
        _run(csv, table, registry)
    record = _run(csv, table, registry, allow_empty_context=True)
    assert record["status"] == "complete"
    assert record["model"]["hyperparameters"]["allow_empty_context"] is True
