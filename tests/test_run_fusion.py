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
    # what each fold's fusion was fitted on, and that the tiny folds fell back
    assert "average fusion, validation set of" in result.output and "fallback" in result.output
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


def _know_nothing(rng, n: int):
    """(n, 4) log-probabilities of a system that always says class 0, whatever the input."""
    import numpy as np

    z = np.tile([3.0, 0.0, 0.0, 0.0], (n, 1)) + 0.3 * rng.normal(size=(n, 4))
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def test_fusion_on_a_tiny_validation_set_invents_no_gain() -> None:
    """Two chance-level systems (UA 25%), 24 validation utterances (6 per class): fitted
    per-class offsets turn noise into up to 34% UA on 100 test utterances; below the
    minimum per class the fusion is the equal-weight average and stays at 25%."""
    import numpy as np

    from serbench.run.fusion_fit import MIN_PER_CLASS, fit_fold

    classes = ["angry", "happy", "neutral", "sad"]
    valid_y, test_y = np.repeat(np.arange(4), 6), np.repeat(np.arange(4), 25)

    def ua(pred):
        return float(np.mean([np.mean(pred[test_y == c] == c) for c in range(4)]))

    fitted, guarded = [], []
    for trial in range(20):
        rng = np.random.default_rng(trial)
        vx = np.hstack([_know_nothing(rng, 24), _know_nothing(rng, 24)])
        tx = np.hstack([_know_nothing(rng, 100), _know_nothing(rng, 100)])
        assert ua(tx[:, :4].argmax(1)) == ua(tx[:, 4:].argmax(1)) == 0.25
        probs, _, _ = fit_fold(vx, valid_y, tx, classes, min_per_class=0)
        fitted.append(ua(probs.argmax(1)))
        probs, model, report = fit_fold(vx, valid_y, tx, classes)
        guarded.append(ua(probs.argmax(1)))
    assert max(fitted) > 0.33  # the invented gain the minimum prevents
    assert guarded == [0.25] * 20
    assert report["method"] == "average" and report["requested"] == "linear"
    assert report["n_fit"] == 24 and report["n_fit_per_class"] == dict.fromkeys(classes, 6)
    assert report["min_per_class"] == MIN_PER_CLASS == 30 and "fewer than 30" in report["fallback"]
    assert np.allclose(model.coef_, 0.5) and np.allclose(model.intercept_, 0.0)


def test_small_validation_split_is_reported_refused_or_fitted(runs, tmp_path: Path) -> None:
    """The fused record says per fold what the fusion was fitted on; on_small="error"
    refuses before writing anything; min_per_class=0 fits whatever there is."""
    averaged = fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "avg")
    for fold in averaged["folds"]:
        info = fold["fusion"]
        assert sum(info["n_fit_per_class"].values()) == info["n_fit"] == fold["n_valid"]
        assert info["method"] == "average" and info["fallback"]
    assert averaged["model"]["hyperparameters"]["fell_back"] == [
        f["name"] for f in averaged["folds"]]
    with pytest.raises(ConfigError, match="fewer than 30 utterances of.*--min-per-class"):
        fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "refused", on_small="error")
    assert not (tmp_path / "refused").exists()
    fitted = fuse_runs(runs["torch"], runs["sklearn"], out=tmp_path / "fit", min_per_class=0)
    assert {f["fusion"]["method"] for f in fitted["folds"]} == {"linear"}
    assert fitted["run_id"] != averaged["run_id"]  # the minimum is part of the identity
