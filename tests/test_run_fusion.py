"""Validation predictions in the run folder, and ``serbench fuse`` of two runs.

Two tiny runs on the same folds (a torch BiLSTM on toy frames, an SVM on toy
functionals) are fused; features come from in-memory tables, so no audio is read.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from _run_helpers import TINY_HPARAMS, toy_registry, toy_table
from click.testing import CliRunner

from serbench.errors import ConfigError
from serbench.run.config import RunConfig
from serbench.run.folder import RunFolder
from serbench.run.fusion import fuse_runs, system_features
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, RunFolder]:
    """Two complete runs of different models on the same corpus and folds."""
    root = tmp_path_factory.mktemp("fusion")
    csv = write_tiny_corpus(root / "corpus", speakers=4, per_speaker=8)
    registry = toy_registry()
    out = {}
    mp = pytest.MonkeyPatch()
    for var in ("DATA", "CACHE", "RUNS"):
        mp.setenv(f"SERBENCH_{var}", str(root / var.lower()))
    try:
        for name, model, level, extra in (
            ("torch", "bilstm_att", "frames", {"overrides": TINY_HPARAMS, "max_epochs": 2}),
            # an SVM fitted on train only scores its validation utterances for the fusion
            ("sklearn", "svm", "functionals", {"overrides": {"fit_on_valid": False}}),
        ):
            cfg = RunConfig(model=model, corpus="manifest", data=csv, protocol="kfold",
                            protocol_options={"k": 2, "valid_fraction": 0.25},
                            feature=f"toy_{level}", device="cpu", **extra)
            record = run_experiment(cfg, registry=registry, progress=False,
                                    features=toy_table(csv, level), command=["test"])
            out[name] = RunFolder(root / "runs" / record["run_id"])
    finally:
        mp.undo()
    return out


def test_runs_save_validation_predictions(runs: dict[str, RunFolder]) -> None:
    for folder in runs.values():
        record = folder.read_record()
        valid = pl.read_parquet(folder.valid_predictions_path)
        test = pl.read_parquet(folder.predictions_path)
        assert valid.columns == test.columns
        for fold in record["folds"]:
            part = valid.filter(pl.col("fold") == fold["name"])
            tested = test.filter(pl.col("fold") == fold["name"])
            assert set(part["utt_id"]).isdisjoint(set(tested["utt_id"]))
            assert part.height == fold["n_valid"] > 0
            assert part["score_angry"].null_count() == 0


def test_fused_run_is_a_complete_record(runs, tmp_path: Path) -> None:
    from serbench.leaderboard.schema import check_record

    record = fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "fused")
    check_record(record, "fused")
    folder = RunFolder(tmp_path / "fused")
    assert folder.read_record() == record
    a = runs["torch"].read_record()
    assert record["model"]["name"] == "fusion"
    assert record["model"]["variant"].startswith("bilstm_att+svm")
    assert [f["name"] for f in record["folds"]] == [f["name"] for f in a["folds"]]
    assert record["protocol"]["split_hash"] == a["protocol"]["split_hash"]
    predictions = pl.read_parquet(folder.predictions_path)
    assert predictions.height == sum(f["n_test"] for f in a["folds"])
    assert 0.0 <= record["aggregate"]["mean"]["ua"] <= 1.0
    for fold in record["folds"]:
        assert fold["fusion"]["n_fit"] == fold["n_valid"]


def test_fusion_never_reads_test_labels(runs, tmp_path: Path) -> None:
    """Scrambling the test labels changes the scores of the fused run, never its predictions."""
    import shutil

    copies = {}
    for name, folder in runs.items():
        copies[name] = RunFolder(tmp_path / name)
        shutil.copytree(folder.root, copies[name].root)
    path = copies["torch"].predictions_path
    frame = pl.read_parquet(path)
    frame.with_columns(pl.col("label").shuffle(seed=3)).write_parquet(path)
    path = copies["sklearn"].predictions_path
    pl.read_parquet(path).with_columns(pl.col("label").shuffle(seed=4)).write_parquet(path)
    clean = fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "a")
    scrambled = fuse_runs(copies["torch"], copies["sklearn"], out=tmp_path / "b")
    pa = pl.read_parquet(tmp_path / "a" / "predictions.parquet")
    pb = pl.read_parquet(tmp_path / "b" / "predictions.parquet")
    assert pa["pred"].to_list() == pb["pred"].to_list()
    assert clean["folds"][0]["fusion"] == scrambled["folds"][0]["fusion"]


def test_runs_on_other_folds_are_refused(runs, tmp_path: Path) -> None:
    import json
    import shutil

    other = RunFolder(tmp_path / "other")
    shutil.copytree(runs["sklearn"].root, other.root)
    record = other.read_record()
    record["protocol"]["split_hash"] = "0" * 16
    other.record_path.write_text(json.dumps(record))
    with pytest.raises(ConfigError, match="cannot be fused.*protocol"):
        fuse_runs(runs["torch"], other, out=tmp_path / "x")


def test_run_without_validation_predictions_is_refused(runs, tmp_path: Path) -> None:
    import shutil

    old = RunFolder(tmp_path / "old")
    shutil.copytree(runs["sklearn"].root, old.root)
    old.valid_predictions_path.unlink()
    with pytest.raises(ConfigError, match="valid_predictions.parquet.*--force"):
        fuse_runs(runs["torch"], old, out=tmp_path / "x")


def test_existing_output_needs_force(runs, tmp_path: Path) -> None:
    fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "f")
    with pytest.raises(ConfigError, match="--force"):
        fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "f")
    fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "f", force=True)


def test_system_features_take_logs_of_probabilities_only() -> None:
    import numpy as np

    probs = np.array([[0.5, 0.5], [1.0, 0.0]])
    assert np.allclose(system_features(probs)[0], np.log([0.5, 0.5]))
    assert np.isfinite(system_features(probs)).all()
    decisions = np.array([[-1.0, 2.0], [0.3, 0.1]])
    assert np.array_equal(system_features(decisions), decisions)


def test_fuse_command(runs, tmp_path: Path) -> None:
    from serbench.cli import cli

    result = CliRunner().invoke(cli, ["fuse", str(runs["torch"].root), str(runs["sklearn"].root),
                                      "-o", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "fusion" in result.output and "bilstm_att" in result.output
    assert (tmp_path / "cli" / "record.json").is_file()


def test_linear_fusion_learns_which_system_to_trust() -> None:
    """System A's scores carry the label, system B's are noise: A gets the larger weight,
    and the fused probabilities are calibrated (near the true posteriors' accuracy)."""
    import numpy as np

    from serbench.run.fusion import LinearFusion

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=300)
    good = np.eye(3)[y] * 2.0 + rng.normal(size=(300, 3))
    noise = rng.normal(size=(300, 3))
    model = LinearFusion(3).fit(np.hstack([good, noise]), y)
    assert model.coef_[0] > 0.5 > abs(model.coef_[1])
    probs = model.predict_proba(np.hstack([good, noise]))
    assert np.allclose(probs.sum(1), 1.0)
    assert (probs.argmax(1) == y).mean() > 0.7


def test_logreg_method_and_unknown_method(runs, tmp_path: Path) -> None:
    record = fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "lr", method="logreg")
    assert record["model"]["hyperparameters"]["method"] == "logreg"
    with pytest.raises(ConfigError, match="method"):
        fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "x", method="focal")
