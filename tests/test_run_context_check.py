"""A model that reads dialogue context, on a corpus without dialogues, stops in
``resolve_run`` from the manifest alone: before any feature is extracted (issue 20)."""

from __future__ import annotations

import types
from pathlib import Path

import polars as pl
import pytest
from _run_helpers import toy_plugin, toy_table

from serbench import hookimpl
from serbench.components import ModelSpec
from serbench.errors import ConfigError
from serbench.plugins import Registry, make_plugin_manager
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus


def _context_model_plugin() -> types.SimpleNamespace:
    @hookimpl
    def register_models(register):
        register(ModelSpec(
            name="ctx_dummy", version=1, description="Dummy reading dialogue context (tests).",
            builder="serbench.testing.dummy:build", framework="torch", level="frames",
            inputs=("context",),
            defaults={"hidden": 4, "lr": 0.01, "batch_size": 8, "max_epochs": 1, "patience": 1},
        ))

    return types.SimpleNamespace(register_models=register_models)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(make_plugin_manager(extra_plugins=[("toy_features", toy_plugin()),
                                                       ("ctx_model", _context_model_plugin())]))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def extractions(monkeypatch: pytest.MonkeyPatch) -> list:
    """Calls of the feature cache's loader (the step that extracts features); it fails."""
    import serbench.features.cache as cache

    calls: list = []

    def spy(*args, **kwargs):
        calls.append(args)
        raise AssertionError("features were extracted before the context check")

    monkeypatch.setattr(cache, "load_features", spy)
    return calls


def _flat_corpus(root: Path) -> Path:
    """The tiny corpus with its dialogue columns removed (like nEMO's manifest)."""
    csv = write_tiny_corpus(root, speakers=3, per_speaker=4)
    pl.read_csv(csv).drop("dialog", "turn").write_csv(csv)
    return csv


def _config(csv: Path, **overrides) -> RunConfig:
    return RunConfig(model="ctx_dummy", corpus="manifest", data=csv, protocol="loso-speaker",
                     feature="toy_frames", overrides=overrides, device="cpu")


def test_context_model_on_corpus_without_dialogues_stops_before_extraction(
        env: Path, registry: Registry, extractions: list) -> None:
    csv = _flat_corpus(env / "flat")
    with pytest.raises(ConfigError) as info:
        run_experiment(_config(csv), registry=registry, progress=False)
    message = str(info.value)
    assert "'ctx_dummy'" in message and "'manifest'" in message  # the model and the corpus
    assert "dialog, turn" in message  # what is missing
    assert "--set allow_empty_context=true" in message  # what to do
    assert extractions == []  # stopped before the feature cache was asked for anything
    assert not (env / "cache").exists() or not any((env / "cache").rglob("*.*"))
    assert not (env / "runs").exists() or not any((env / "runs").iterdir())


def test_allow_empty_context_runs_it(env: Path, registry: Registry) -> None:
    csv = _flat_corpus(env / "flat")
    record = run_experiment(_config(csv, allow_empty_context=True), registry=registry,
                            progress=False, features=toy_table(csv))
    assert record["status"] == "complete"
    assert record["model"]["hyperparameters"]["allow_empty_context"] is True


def test_corpus_with_dialogues_passes_the_check(env: Path, registry: Registry,
                                                extractions: list) -> None:
    csv = write_tiny_corpus(env / "dialogues", speakers=3, per_speaker=4)
    record = run_experiment(_config(csv), registry=registry, progress=False,
                            features=toy_table(csv))
    assert record["status"] == "complete"
