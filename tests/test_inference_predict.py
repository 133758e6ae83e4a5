"""``serbench predict``: a finished run's fold models on audio files.

One tiny BiLSTM+attention run (eGeMAPS functionals of 1 s windows, its default input, per-speaker normalisation, one
epoch) on the tiny on-disk corpus; its recorded test scores are the reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.errors import ConfigError
from serbench.inference.predict import predict_files
from serbench.inference.statistics import load_fold_statistics, statistics_path
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("predict")
    csv = write_tiny_corpus(root / "tiny", speakers=3, per_speaker=4)
    record = run_experiment(
        RunConfig(model="bilstm_att", corpus="manifest", data=csv, protocol="loso-speaker",
                  normalisation="speaker", overrides={"hidden": 4, "batch_size": 8},
                  max_epochs=1, device="cpu", runs_dir=root / "runs"),
        progress=False, command=["serbench", "run"],
    )
    run_dir = root / "runs" / record["run_id"]
    manifest = pl.read_csv(csv)
    paths = {u: str(root / "tiny" / p) for u, p in
             zip(manifest["utt_id"], manifest["path"], strict=True)}
    return {"dir": run_dir, "record": record, "paths": paths, "manifest": manifest,
            "predictions": pl.read_parquet(run_dir / "predictions.parquet")}


def _fold_files(trained: dict, fold: str) -> tuple[list[str], pl.DataFrame]:
    rows = trained["predictions"].filter(pl.col("fold") == fold).sort("utt_id")
    return [trained["paths"][u] for u in rows["utt_id"]], rows


def test_one_fold_reproduces_the_runs_test_scores(trained: dict) -> None:
    # the speaker's own statistics over all its files are what training used for it
    files, rows = _fold_files(trained, "spk02")
    out = predict_files(trained["dir"], files, folds=["spk02"], speaker_stats="files")
    assert out.models == ["spk02"] and not out.failed
    assert [r.path for r in out.rows] == files
    classes = trained["record"]["corpus"]["classes"]
    got = np.array([[r.probabilities[c] for c in classes] for r in out.rows])
    want = rows.select([f"score_{c}" for c in classes]).to_numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert [r.label for r in out.rows] == rows["pred"].to_list()


def test_ensemble_is_the_mean_of_the_fold_models(trained: dict) -> None:
    files, _ = _fold_files(trained, "spk01")
    names = [f["name"] for f in trained["record"]["folds"]]
    each = [predict_files(trained["dir"], files, folds=[f]) for f in names]
    ensemble = predict_files(trained["dir"], files)
    assert ensemble.models == names
    assert "pooled statistics" in ensemble.normalisation
    for i, row in enumerate(ensemble.rows):
        mean = {c: np.mean([e.rows[i].probabilities[c] for e in each]) for c in row.probabilities}
        assert row.probabilities == pytest.approx(mean, abs=1e-9)
        assert row.label == max(mean, key=mean.get)
        assert sum(row.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_saved_statistics_are_the_training_folds(trained: dict) -> None:
    from serbench.features.cache import load_features

    record = trained["record"]
    fold = record["folds"][0]
    manifest = trained["manifest"]
    table = load_features(manifest, record["feature"]["name"], params=record["feature"]["params"],
                          fingerprint=record["corpus"]["fingerprint"], progress=False)
    valid = pl.read_parquet(trained["dir"] / "valid_predictions.parquet").filter(
        pl.col("fold") == fold["name"])["utt_id"]
    train = manifest.filter(pl.col("speaker").is_in(fold["train_speakers"])
                            & ~pl.col("utt_id").is_in(valid))["utt_id"]
    assert len(train) == fold["n_train"]
    frames = np.concatenate([table.raw(u) for u in train]).astype(np.float64)
    stats = load_fold_statistics(trained["dir"], fold["name"], table.dim)
    assert stats.mode == "speaker" and stats.n_fit == len(train)
    np.testing.assert_allclose(stats.mean, frames.mean(axis=0), rtol=1e-9, atol=1e-9)
    std = frames.std(axis=0)
    np.testing.assert_allclose(stats.std, np.where(std < 1e-8, 1.0, std), rtol=1e-9, atol=1e-9)


def test_cli_reports_an_unreadable_file_and_goes_on(trained: dict, tmp_path: Path) -> None:
    files, _ = _fold_files(trained, "spk03")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really audio")
    out = tmp_path / "p.json"
    result = CliRunner().invoke(cli, ["predict", str(trained["dir"]), files[0], str(broken),
                                      files[1], "--format", "json", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert f"failed: {broken}" in result.output
    doc = json.loads(out.read_text())
    assert [p["file"] for p in doc["predictions"]] == files[:2]
    assert doc["failed"][0]["file"] == str(broken)
    assert doc["failed"][0]["reason"].startswith("unreadable audio")
    table = CliRunner().invoke(cli, ["predict", str(trained["dir"]), files[0], "--format", "csv"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == "file,label,p_angry,p_happy,p_neutral,p_sad"
    assert lines[1].startswith(files[0] + ",")


def test_a_folder_stands_for_its_audio_files(trained: dict) -> None:
    folder = Path(next(iter(trained["paths"].values()))).parent
    out = predict_files(trained["dir"], [folder])
    assert sorted(r.path for r in out.rows) == sorted(str(p) for p in folder.glob("*.wav"))


def test_bad_input_stops_before_reading_audio(trained: dict, tmp_path: Path) -> None:
    files, _ = _fold_files(trained, "spk01")
    with pytest.raises(ConfigError, match="no fold 'nope'"):
        predict_files(trained["dir"], files, folds=["nope"])
    with pytest.raises(ConfigError, match="holds no audio file"):
        predict_files(trained["dir"], [tmp_path])
    with pytest.raises(ConfigError, match="several recordings of the speaker"):
        predict_files(trained["dir"], files[:1], speaker_stats="files")
    with pytest.raises(ConfigError, match="speaker_stats"):
        predict_files(trained["dir"], files, speaker_stats="mine")
    with pytest.raises(ConfigError, match="no run"):
        predict_files(tmp_path / "missing", files)


def test_missing_statistics_are_named(trained: dict, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / trained["dir"].name
    shutil.copytree(trained["dir"], copy)
    statistics_path(copy, "spk01").unlink()
    files, _ = _fold_files(trained, "spk01")
    with pytest.raises(ConfigError, match="normalisation_spk01.npz is missing"):
        predict_files(copy, files, folds=["spk01"])


def test_sklearn_and_transcript_models_are_refused() -> None:
    from serbench.inference.fold_models import check_usable
    from serbench.plugins import get_registry

    registry = get_registry()
    svm = {"run_id": "r", "model": {"name": "svm", "version": 1, "framework": "sklearn"}}
    with pytest.raises(ConfigError, match="pickle"):
        check_usable(svm, registry)
    spec = registry.model("rlc_al")
    text = {"run_id": "r", "model": {"name": "rlc_al", "version": spec.version,
                                     "framework": "torch"}}
    with pytest.raises(ConfigError, match="transcript"):
        check_usable(text, registry)


def test_refit_epochs_is_the_rounded_median_of_best_epochs() -> None:
    from serbench.inference.refit import refit_epochs

    def record(*best: int | None) -> dict:
        return {"run_id": "r", "folds": [{"best_epoch": b} for b in best]}

    assert refit_epochs(record(1, 2, 4)) == 2
    assert refit_epochs(record(1, 2)) == 2  # 1.5 rounds up
    assert refit_epochs(record(3, 4, 6, 7)) == 5
    with pytest.raises(ConfigError, match="no best epoch"):
        refit_epochs(record(None, None))


def test_refit_trains_on_all_data_and_predict_uses_it(trained: dict, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / trained["dir"].name
    shutil.copytree(trained["dir"], copy)
    result = CliRunner().invoke(cli, ["refit", str(copy), "--device", "cpu"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    doc = json.loads((copy / "refit" / "refit.json").read_text())
    assert doc["epochs"] == 1 and doc["n_train"] == 12 and doc["epochs_run"] == 1
    stats = load_fold_statistics(copy / "refit", "refit", trained["record"]["feature"]["dim"])
    assert stats.n_fit == 12
    files, _ = _fold_files(trained, "spk01")
    refitted = predict_files(copy, files)
    assert refitted.models == ["refit"]
    assert predict_files(copy, files, use_refit=False).models == ["spk01", "spk02", "spk03"]
    again = CliRunner().invoke(cli, ["refit", str(copy)])
    assert again.exit_code != 0 and "--force" in str(again.exception)
