"""A run whose test predictions collapse to one class is flagged in its record
(``single_class``, a ``warnings`` sentence), in what ``serbench run`` prints, and on the
leaderboard (issue 20)."""

from __future__ import annotations

import types
from pathlib import Path

import polars as pl
import pytest
import torch
from _run_helpers import toy_plugin, toy_table
from rich.console import Console
from torch import nn

from serbench import hookimpl
from serbench.components import ModelSpec
from serbench.leaderboard import diagnostics
from serbench.leaderboard.records import entry_from_record
from serbench.leaderboard.schema import ENTRY_SCHEMA
from serbench.plugins import Registry, make_plugin_manager
from serbench.run.collapse import single_class
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.run.report import record_report
from serbench.testing.corpora import write_tiny_corpus
from serbench.testing.dummy import DummyModel


class Constant(nn.Module):
    """Always the same logits (class ``index`` wins): a model that collapsed."""

    def __init__(self, num_classes: int, index: int):
        super().__init__()
        self.logits = torch.zeros(num_classes)
        self.logits[index] = 5.0
        self.unused = nn.Parameter(torch.zeros(1))  # something for the optimiser

    def forward(self, batch) -> torch.Tensor:
        return self.logits.expand(batch.x.shape[0], -1) + 0.0 * self.unused


def build_constant(spec, hparams):
    return Constant(spec.num_classes, int(hparams.get("index", 2)))


def build_dummy(spec, hparams):
    return DummyModel(spec, hidden=8)


def _models_plugin() -> types.SimpleNamespace:
    @hookimpl
    def register_models(register):
        common = dict(version=1, framework="torch", level="frames",
                      defaults={"index": 2, "lr": 0.05, "batch_size": 8, "max_epochs": 2,
                                "patience": 5})
        register(ModelSpec(name="constant", description="Predicts one class (tests).",
                           builder=build_constant, **common))
        register(ModelSpec(name="learner", description="A dummy that learns (tests).",
                           builder=build_dummy, **common))

    return types.SimpleNamespace(register_models=register_models)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(make_plugin_manager(extra_plugins=[("toy_features", toy_plugin()),
                                                       ("collapse_models", _models_plugin())]))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=3, per_speaker=4)


def _run(model: str, csv: Path, registry: Registry) -> dict:
    config = RunConfig(model=model, corpus="manifest", data=csv, protocol="loso-speaker",
                       feature="toy_frames", device="cpu")
    return run_experiment(config, registry=registry, progress=False, features=toy_table(csv))


def _printed(record: dict) -> str:
    console = Console(record=True, width=200)
    console.print(record_report(record))
    return console.export_text()


def test_collapsed_run_is_flagged_in_record_output_and_leaderboard(env, tiny_csv, registry):
    record = _run("constant", tiny_csv, registry)
    flag = record["single_class"]
    assert flag["pooled"] == "neutral"  # class index 2 of angry, happy, neutral, sad
    assert flag["folds"] == {f["name"]: "neutral" for f in record["folds"]}
    assert flag["every_fold"] is True
    assert any("single class ('neutral')" in w for w in record["warnings"])
    written = (env / "runs" / record["run_id"] / "record.json").read_text()
    assert '"single_class"' in written
    assert "single class ('neutral')" in _printed(record)  # serbench run prints it
    # the leaderboard reads the record's flag, even without per-utterance predictions
    entry = entry_from_record(record, benchmark="b")
    assert entry["counts"] is None and entry["single_class"] == flag
    import jsonschema

    jsonschema.validate(entry, ENTRY_SCHEMA)
    assert "one-class" in diagnostics.flags([entry], record["aggregate"]["mean"]["ua"], 0.25)


def test_a_learning_run_is_not_flagged(env, tiny_csv, registry):
    record = _run("learner", tiny_csv, registry)
    assert record["single_class"] == {"pooled": None, "folds": {}, "every_fold": False}
    assert not any("single class" in w for w in record["warnings"])
    assert "single class" not in _printed(record)
    entry = entry_from_record(record, benchmark="b")
    entry["single_class"] = {"pooled": None, "folds": {}, "every_fold": False}
    assert not diagnostics.predicts_one_class([entry])


def test_single_class_judges_only_folds_with_two_true_classes():
    frame = pl.DataFrame({
        "fold": ["a", "a", "b", "b", "c", "c"],
        "label": ["sad", "happy", "sad", "sad", "sad", "happy"],
        "pred": ["sad", "sad", "sad", "sad", "happy", "sad"],
    })
    out = single_class(frame, ["a", "b", "c"])
    # b holds one true class: predicting it is right, not a collapse (not judged)
    assert out == {"pooled": None, "folds": {"a": "sad"}, "every_fold": False}
    assert single_class(frame.filter(pl.col("fold") != "c"), ["a", "b"]) == {
        "pooled": "sad", "folds": {"a": "sad"}, "every_fold": True}


def test_older_entries_keep_the_counts_detection():
    counts = {"classes": ["a", "b"],
              "clusters": {"s1": {"n": [3, 3], "correct": [3, 0]}}}
    old = {"counts": counts}  # added before records carried single_class
    assert diagnostics.predicts_one_class([old])
    new_says_no = {"counts": counts, "single_class": {"pooled": None, "folds": {},
                                                      "every_fold": False}}
    assert not diagnostics.predicts_one_class([new_says_no])
    assert not diagnostics.predicts_one_class([old, new_says_no])
