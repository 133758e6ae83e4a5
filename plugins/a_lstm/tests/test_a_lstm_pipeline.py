"""Both models through serbench's run pipeline with the paper protocol, then fused.

A tiny corpus (6 speakers, both genders) with in-memory toy features stands in for
IEMOCAP, so no audio is read: this checks the wiring (speaker-holdout protocol,
speaker/gender targets for the multi-task heads, validation predictions, fusion).
"""

from __future__ import annotations

import types
from pathlib import Path

import polars as pl
import pytest
from serbench import hookimpl
from serbench.components import FeatureSpec
from serbench.features.table import FeatureTable
from serbench.plugins import Registry, make_plugin_manager
from serbench.run.config import RunConfig
from serbench.run.folder import RunFolder
from serbench.run.fusion import fuse_runs
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus
from serbench.testing.tables import synthetic_frames


def _registry() -> Registry:
    @hookimpl
    def register_features(register):
        for level in ("frames", "functionals"):
            register(FeatureSpec(name=f"toy_{level}", version=1, description="toy features",
                                 extractor="serbench.testing.tables:synthetic_frames",
                                 level=level))

    plugin = types.SimpleNamespace(register_features=register_features)
    return Registry(make_plugin_manager(extra_plugins=[("toy_a_lstm", plugin)]))


def _table(csv: Path, level: str) -> FeatureTable:
    manifest = pl.read_csv(csv)
    labels = sorted(manifest["label"].unique().to_list())
    return synthetic_frames(manifest["utt_id"].to_list(),
                            [labels.index(x) for x in manifest["label"].to_list()],
                            dim=4, level=level, max_len=9)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    return tmp_path


def test_paper_protocol_runs_and_fuses(env: Path) -> None:
    csv = write_tiny_corpus(env / "corpus", speakers=6, per_speaker=8)
    registry = _registry()
    records = {}
    for model, level, sets in (
        ("a_lstm", "frames", {"fc_units": 8, "hidden_size": 4, "branch_units": 8,
                              "time_steps": [3, 2, 1]}),
        ("alstm_dnn", "functionals", {"shared_units": [16, 16], "task_units": 8}),
    ):
        cfg = RunConfig(model=model, corpus="manifest", data=csv, feature=f"toy_{level}",
                        overrides=sets, max_epochs=2, device="cpu",
                        protocol_options={"valid_fraction": 0.2})
        records[model] = run_experiment(cfg, registry=registry, progress=False,
                                        features=_table(csv, level), command=["test"])
    rnn = records["a_lstm"]
    assert rnn["protocol"]["name"] == "speaker-holdout"  # the paper's, from `preferred`
    assert rnn["model"]["variant"] == "a_lstm"
    assert len(rnn["folds"][0]["test_speakers"]) == 2
    # the loss weights it trained with (section 5), not only the overrides
    assert rnn["training"]["config"]["task_weights"] == {"emotion": 1.0, "speaker": 0.3,
                                                         "gender": 0.6}
    assert rnn["folds"][0]["curve"]
    assert records["alstm_dnn"]["training"]["config"]["optimizer"] == "sgd"
    runs = env / "runs"
    fused = fuse_runs(RunFolder(runs / rnn["run_id"]),
                      RunFolder(runs / records["alstm_dnn"]["run_id"]), runs_dir=runs)
    assert fused["model"]["variant"] == "a_lstm-a_lstm+alstm_dnn"
    assert (runs / fused["run_id"] / "record.json").is_file()
