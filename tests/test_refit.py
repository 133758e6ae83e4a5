"""``refit=true`` (serbench/training/fold_torch.py): after the epoch is chosen on
validation, a fresh model trains on train + valid for exactly that many epochs and is the
one tested; validation scores still come from the selection model.

The pipeline runs in-process on the tiny corpus with toy frames (no audio read); the
trainer is spied on to see what each fold trains on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _run_helpers import TINY_HPARAMS, toy_registry, toy_table

import serbench.training.fold_torch as fold_torch
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus

MAX_EPOCHS = 4


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=3, per_speaker=4)


@pytest.fixture
def spied(monkeypatch):
    """Record every ``train`` and ``predict`` call the fold runner makes."""
    calls: dict[str, list[dict]] = {"train": [], "predict": []}
    real_train, real_predict = fold_torch.train, fold_torch.predict

    def train(model, train_set, valid_set, config, **kw):
        result = real_train(model, train_set, valid_set, config, **kw)
        calls["train"].append({
            "model": model, "train_ids": list(train_set.utt_ids),
            "valid_ids": None if valid_set is None else list(valid_set.utt_ids),
            "max_epochs": config.max_epochs, "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run,
        })
        return result

    def predict(model, dataset, **kw):
        calls["predict"].append({"model": model, "ids": list(dataset.utt_ids)})
        return real_predict(model, dataset, **kw)

    monkeypatch.setattr(fold_torch, "train", train)
    monkeypatch.setattr(fold_torch, "predict", predict)
    return calls


def run(csv: Path, **hparams) -> dict:
    # patience 1 with lr 0.05: validation UA wanders, so early stopping picks an epoch
    # before the budget in some folds and "best_epoch" differs from max_epochs
    config = RunConfig(model="bilstm_att", corpus="manifest", data=csv, protocol="loso-speaker",
                       feature="toy_frames", device="cpu", max_epochs=MAX_EPOCHS,
                       overrides={**TINY_HPARAMS, "patience": 1, "lr": 0.05, **hparams})
    return run_experiment(config, registry=toy_registry(), progress=False,
                          features=toy_table(csv, "frames"),
                          command=["serbench", "run", "--model", "bilstm_att"])


def test_refit_trains_again_on_train_and_valid_for_the_selected_epochs(env, tiny_csv, spied):
    record = run(tiny_csv, refit=True)
    assert record["status"] == "complete"
    assert record["training"]["config"]["refit"] is True
    folds = record["folds"]
    trains = spied["train"]
    assert len(trains) == 2 * len(folds)  # a selection run and a refit per fold
    selected_before_budget = 0
    for k, fold in enumerate(folds):
        select, refit = trains[2 * k], trains[2 * k + 1]
        assert select["valid_ids"], "the selection run validates"
        assert select["max_epochs"] == MAX_EPOCHS
        assert fold["best_epoch"] == select["best_epoch"]
        # the refit: no validation, every train and valid utterance, nothing else
        assert refit["valid_ids"] is None
        assert sorted(refit["train_ids"]) == sorted(select["train_ids"] + select["valid_ids"])
        assert len(refit["train_ids"]) == fold["n_train"] + fold["n_valid"]
        # ... for exactly the selected number of epochs
        assert refit["max_epochs"] == select["best_epoch"]
        assert refit["epochs_run"] == select["best_epoch"]
        selected_before_budget += select["best_epoch"] < MAX_EPOCHS
        # a fresh model, not the selection one trained further
        assert refit["model"] is not select["model"]
        # validation scores from the selection model, test predictions from the refit one
        valid_calls = [c for c in spied["predict"] if c["ids"] == select["valid_ids"]]
        test_calls = [c for c in spied["predict"]
                      if c["ids"] and not set(c["ids"]) & set(refit["train_ids"])
                      and c["model"] in (select["model"], refit["model"])]
        assert [c["model"] for c in valid_calls] == [select["model"]]
        assert refit["model"] in [c["model"] for c in test_calls]
        assert select["model"] not in [c["model"] for c in test_calls]
    # otherwise "refit epochs == best epoch" could not tell best_epoch from max_epochs
    assert selected_before_budget > 0, [f["best_epoch"] for f in folds]


def test_without_refit_each_fold_trains_once(env, tiny_csv, spied):
    record = run(tiny_csv, refit=False)
    assert record["training"]["config"]["refit"] is False
    assert len(spied["train"]) == len(record["folds"]) == 3
    assert all(call["valid_ids"] for call in spied["train"])
    # the tested model is the selection model
    for call in spied["train"]:
        tested = [c for c in spied["predict"] if c["model"] is call["model"]]
        assert len(tested) == 2  # its validation split and its test split


@pytest.mark.parametrize(("setting", "named"), [
    ("select_window=0", "select_window"),
    ("time_mask_width=2", "time_mask_width"),
    ("feature_mask_width=-0.5", "feature_mask_width"),
])
def test_bad_training_values_stop_with_exit_2_before_any_work(
        env, tiny_csv, spied, capsys, setting, named):
    from serbench.cli import main

    with pytest.raises(SystemExit) as info:
        main(["run", "--model", "bilstm_att", "--corpus", "manifest", "--data", str(tiny_csv),
              "--protocol", "loso-speaker", "-q", "--set", setting])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and named in err and "Traceback" not in err
    assert spied["train"] == []
    assert not (env / "runs").exists() or not any((env / "runs").iterdir())
    assert not (env / "cache").exists() or not any((env / "cache").rglob("*.parquet"))


def test_refit_is_recorded_in_the_run_config_file(env, tiny_csv, spied):
    """The refit flag is part of the run's identity: a refit run is not a plain run resumed."""
    plain = run(tiny_csv, refit=False)
    refit = run(tiny_csv, refit=True)
    assert plain["run_id"] != refit["run_id"]
    folder = env / "runs" / refit["run_id"]
    assert json.loads((folder / "record.json").read_text())["training"]["config"]["refit"]
