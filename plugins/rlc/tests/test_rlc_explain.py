"""``serbench explain`` on a tiny trained RLC: Fig. 5's head matrices and informativeness.

Features are an in-memory toy table (no audio), handed to the pipeline and to explain.
"""

from __future__ import annotations

import types
from pathlib import Path

import polars as pl
import pytest
from serbench import hookimpl
from serbench.components import FeatureSpec
from serbench.explain import draw, explain_utterance
from serbench.plugins import Registry, make_plugin_manager
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus
from serbench.testing.tables import synthetic_frames

TINY = {"channels": [4, 8, 8, 8, 8], "kernels": [5, 3, 3, 3, 3], "strides": [2, 2, 1, 1, 1],
        "heads": 2, "hidden_size": 8, "dense_units": 8, "batch_size": 8,
        "params": None}  # tiny widths, not Table 2's balanced counts


def _registry() -> Registry:
    @hookimpl
    def register_features(register):
        register(FeatureSpec(name="toy_frames", version=1, description="Toy frames for tests.",
                             extractor="serbench.testing.tables:synthetic_frames",
                             level="frames"))

    plugin = types.SimpleNamespace(register_features=register_features)
    return Registry(make_plugin_manager(extra_plugins=[("toy_features", plugin)]))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("rlc_explain")
    csv = write_tiny_corpus(root / "tiny", speakers=4, per_speaker=4)
    manifest = pl.read_csv(csv)
    labels = sorted(set(manifest["label"]))
    table = synthetic_frames(manifest["utt_id"].to_list(),
                             [labels.index(x) for x in manifest["label"]], dim=6,
                             min_len=20, max_len=40)
    registry = _registry()
    record = run_experiment(
        RunConfig(model="rlc", corpus="manifest", data=csv, protocol="loso", feature="toy_frames",
                  overrides=TINY, max_epochs=1, device="cpu", folds=["Ses01"],
                  runs_dir=root / "runs"),
        registry=registry, features=table, progress=False, command=["serbench", "run"],
    )
    return {"dir": root / "runs" / record["run_id"], "registry": registry, "table": table}


def test_rlc_maps_and_pictures(trained: dict, tmp_path: Path) -> None:
    utt = pl.read_parquet(trained["dir"] / "predictions.parquet")["utt_id"][0]
    e = explain_utterance(trained["dir"], utt, registry=trained["registry"],
                          features=trained["table"])
    row = pl.read_parquet(trained["dir"] / "predictions.parquet").row(0, named=True)
    assert e.model_pred == row["pred"]
    steps = e.features.shape[0]
    for _ in range(2):  # two strided groups: ceil(T / 2) twice
        steps = (steps + 1) // 2
    assert set(e.maps) == {"gca_informativeness"} | {
        f"self_attention/g{g}u{u}" for g in (3, 4, 5) for u in (1, 2)}
    heads = e.maps["self_attention/g5u2"]
    assert heads.shape == (2, steps, steps)
    assert abs(heads.sum(-1) - 1).max() < 1e-5
    r = e.maps["gca_informativeness"]
    assert r.shape == (3, steps) and r.min() >= 0 and r.max() <= 1
    files = draw(e, tmp_path)
    assert len(files) == 7 and all(f.stat().st_size > 5000 for f in files)


def test_rlc_al_reads_the_folds_vocabulary(trained: dict, tmp_path: Path) -> None:
    """A+L: explain rebuilds the transcript tokens with the training fold's vocabulary."""
    run_root = trained["dir"].parent
    csv = next(run_root.parent.glob("tiny/manifest.csv"))
    record = run_experiment(
        RunConfig(model="rlc_al", corpus="manifest", data=csv, protocol="loso",
                  feature="toy_frames", overrides={**TINY, "embedding_dim": 4,
                                                   "lexical_hidden": 4},
                  max_epochs=1, device="cpu", folds=["Ses02"], runs_dir=run_root),
        registry=trained["registry"], features=trained["table"], progress=False,
        command=["serbench", "run"],
    )
    run_dir = run_root / record["run_id"]
    row = pl.read_parquet(run_dir / "predictions.parquet").row(0, named=True)
    e = explain_utterance(run_dir, row["utt_id"], registry=trained["registry"],
                          features=trained["table"])
    assert e.fold == "Ses02" and "gca_informativeness" in e.maps
    assert e.model_pred == row["pred"]
