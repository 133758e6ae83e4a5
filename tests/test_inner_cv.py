"""``inner_folds=K`` (serbench/training/inner_cv.py): the epoch count is chosen by
cross-validation over the fold's development speakers, then a fresh model is trained on
all of them for the median of the inner picks and tested.

The pipeline runs in-process on the tiny corpus with toy frames (no audio read); the
trainer is spied on to see what each fold trains on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _run_helpers import TINY_HPARAMS, toy_registry, toy_table

import serbench.training.fold_torch as fold_torch
from serbench.errors import ConfigError
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.run.report import scores_table
from serbench.testing.corpora import write_tiny_corpus
from serbench.training.inner_cv import cross_validate_epochs, median_epoch, speaker_groups

MAX_EPOCHS = 4


# --- the pieces, against hand computations ------------------------------------------

def test_speakers_are_dealt_largest_first_to_the_smallest_group():
    # A has 5 utterances, B and C 3, D 1. Dealt largest first (ties by name) to the group
    # with fewest utterances: A -> g0 (5), B -> g1 (3), C -> g1 (6), D -> g0 (6).
    speaker_of = {**{f"a{i}": "A" for i in range(5)}, **{f"b{i}": "B" for i in range(3)},
                  **{f"c{i}": "C" for i in range(3)}, "d0": "D"}
    groups = speaker_groups(sorted(speaker_of), speaker_of, 2)
    assert [sorted({speaker_of[u] for u in g}) for g in groups] == [["A", "D"], ["B", "C"]]
    assert sorted(u for g in groups for u in g) == sorted(speaker_of)


def test_more_groups_than_speakers_gives_one_group_per_speaker():
    speaker_of = {"x1": "X", "x2": "X", "y1": "Y", "z1": "Z"}
    groups = speaker_groups(list(speaker_of), speaker_of, 5)
    assert groups == [("x1", "x2"), ("y1",), ("z1",)]


@pytest.mark.parametrize(("ids", "k", "says"), [
    (["u1", "u2"], 3, "at least 2 development speakers"),
    (["u1", "v1"], 1, "use 2 or more"),
])
def test_unusable_groupings_are_refused(ids, k, says):
    speaker_of = {"u1": "U", "u2": "U", "v1": "V"}
    with pytest.raises(ConfigError, match=says):
        speaker_groups(ids, speaker_of, k)


@pytest.mark.parametrize(("picks", "expected"), [
    ([9, 19, 16], 16), ([3, 4], 4), ([1, 2], 2), ([2, 2, 7, 8], 5), ([0], 1)])
def test_the_epoch_count_is_the_median_rounded_half_up(picks, expected):
    assert median_epoch(picks) == expected


def test_every_development_utterance_validates_once_and_never_trains_its_own_model():
    speaker_of = {f"{s}{i}": s for s in "ABCD" for i in range(2)}
    dev = sorted(speaker_of)
    seen = []

    def train_one(train_ids, valid_ids):
        assert not set(train_ids) & set(valid_ids)
        seen.append((list(train_ids), list(valid_ids)))
        epoch = {"A": 3, "B": 5, "C": 8, "D": 4}[speaker_of[valid_ids[0]]]
        return epoch, 0.5, np.full((len(valid_ids), 2), len(seen), float), 1.5

    chosen = cross_validate_epochs(dev, speaker_of, 4, train_one)
    assert sorted(v for _, valid in seen for v in valid) == dev
    assert chosen.epochs == 5  # median of 3, 5, 8, 4 = 4.5, half up
    assert chosen.train_seconds == 6.0
    assert chosen.summary()["k"] == 4
    # each utterance's out-of-fold scores come from the model that held it out
    for k, (_, valid) in enumerate(seen, start=1):
        assert all(chosen.oof_scores[u][0] == k for u in valid)


# --- in the pipeline ----------------------------------------------------------------

@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=4, per_speaker=4)


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
        probs, extra = real_predict(model, dataset, **kw)
        calls["predict"].append({"model": model, "ids": list(dataset.utt_ids), "probs": probs})
        return probs, extra

    monkeypatch.setattr(fold_torch, "train", train)
    monkeypatch.setattr(fold_torch, "predict", predict)
    return calls


def run(csv: Path, **hparams) -> dict:
    # patience 1 with lr 0.05: validation UA wanders, so the inner picks differ
    config = RunConfig(model="bilstm_att", corpus="manifest", data=csv, protocol="loso-speaker",
                       feature="toy_frames", device="cpu", max_epochs=MAX_EPOCHS,
                       overrides={**TINY_HPARAMS, "patience": 1, "lr": 0.05, **hparams})
    return run_experiment(config, registry=toy_registry(), progress=False,
                          features=toy_table(csv, "frames"),
                          command=["serbench", "run", "--model", "bilstm_att"])


def test_inner_folds_validate_on_each_development_speaker_then_refit(env, tiny_csv, spied):
    record = run(tiny_csv, inner_folds=3)
    assert record["status"] == "complete"
    assert record["training"]["config"]["inner_folds"] == 3
    folds, trains = record["folds"], spied["train"]
    assert len(trains) == 4 * len(folds)  # 3 inner models and the tested one per fold
    speaker = {u: u.rsplit("_", 1)[0] for call in trains for u in call["train_ids"]}
    for k, fold in enumerate(folds):
        inner, tested = trains[4 * k:4 * k + 3], trains[4 * k + 3]
        dev = sorted(tested["train_ids"])
        assert len(dev) == fold["n_train"] + fold["n_valid"]
        held = [call["valid_ids"] for call in inner]
        # each inner model holds out one whole development speaker, in turn
        assert sorted(u for ids in held for u in ids) == dev
        for call in inner:
            assert len({speaker[u] for u in call["valid_ids"]}) == 1
            assert sorted(call["train_ids"] + call["valid_ids"]) == dev
        # the tested model: every development utterance, no validation, median epochs
        picks = [call["best_epoch"] for call in inner]
        assert tested["valid_ids"] is None
        assert tested["max_epochs"] == tested["epochs_run"] == median_epoch(picks)
        assert fold["best_epoch"] == median_epoch(picks)
        selection = fold["selection"]
        assert selection["best_epochs"] == picks and selection["k"] == 3
        assert sorted(s for g in selection["groups"] for s in g) == sorted(
            fold["train_speakers"] + fold["valid_speakers"])
        # no test utterance is ever trained on or validated on
        test_speakers = set(fold["test_speakers"])
        for call in [*inner, tested]:
            assert not {speaker[u] for u in call["train_ids"]} & test_speakers
    table = scores_table(record)
    assert "median of" in "".join(str(c) for col in table.columns for c in col._cells)


def test_validation_scores_are_out_of_fold(env, tiny_csv, spied):
    """The fold's saved validation scores (for `serbench fuse`) are those of the inner model
    that held each utterance out, not the tested model's, which trained on them."""
    import polars as pl

    record = run(tiny_csv, inner_folds=3)
    saved = pl.read_parquet(env / "runs" / record["run_id"] / "valid_predictions.parquet")
    assert len(saved) == sum(f["n_valid"] for f in record["folds"])
    classes = record["corpus"]["classes"]
    trains = spied["train"]
    for k, fold in enumerate(record["folds"]):
        inner, tested = trains[4 * k:4 * k + 3], trains[4 * k + 3]
        by_utt = {r["utt_id"]: [r[f"score_{c}"] for c in classes]
                  for r in saved.filter(pl.col("fold") == fold["name"]).iter_rows(named=True)}
        assert len(by_utt) == fold["n_valid"]
        for call in inner:
            # an inner model predicts its held-out speaker only
            scored = [c for c in spied["predict"] if c["model"] is call["model"]]
            assert [c["ids"] for c in scored] == [call["valid_ids"]]
            for utt, probs in zip(call["valid_ids"], scored[0]["probs"], strict=True):
                if utt in by_utt:  # the outer fold's validation speaker
                    np.testing.assert_allclose(by_utt[utt], probs, rtol=1e-6)
        # the tested model predicts the test part only
        assert [set(c["ids"]) for c in spied["predict"] if c["model"] is tested["model"]] \
            and not any(set(c["ids"]) & set(tested["train_ids"])
                        for c in spied["predict"] if c["model"] is tested["model"])
        assert fold["n_valid"] > 0


def test_a_fold_with_one_development_speaker_is_refused_before_training():
    """Checked with the folds, before any feature is read (serbench/run/fold_checks.py)."""
    import polars as pl

    from serbench.protocols.base import Fold
    from serbench.run.fold_checks import check_folds

    manifest = pl.DataFrame({"utt_id": ["a1", "a2", "b1", "c1"],
                             "speaker": ["A", "A", "B", "C"]})
    one_dev = Fold("B", train=("a1",), valid=("a2",), test=("b1",))
    two_dev = Fold("C", train=("a1", "b1"), valid=("a2",), test=("c1",))
    check_folds([two_dev], manifest, "toy", needs_valid=True, inner_folds=2)
    check_folds([one_dev], manifest, "toy", needs_valid=True)  # fine without inner folds
    with pytest.raises(ConfigError, match=r"fold 'B' has 1 development speaker.*inner_folds=2"):
        check_folds([one_dev, two_dev], manifest, "toy", needs_valid=True, inner_folds=2)
    # inner folds carve their own validation: a fold without a valid part is fine
    no_valid = Fold("C", train=("a1", "b1"), valid=(), test=("c1",))
    check_folds([no_valid], manifest, "toy", needs_valid=True, inner_folds=2)


def test_inner_folds_of_one_is_refused(env, tiny_csv, spied, capsys):
    from serbench.cli import main

    with pytest.raises(SystemExit) as info:
        main(["run", "--model", "bilstm_att", "--corpus", "manifest", "--data", str(tiny_csv),
              "--protocol", "loso-speaker", "-q", "--set", "inner_folds=1"])
    assert info.value.code == 2
    assert "inner_folds=1" in capsys.readouterr().err
    assert spied["train"] == []


def test_a_default_inner_folds_falls_back_where_a_fold_has_one_development_speaker():
    """Set by a model's defaults, inner_folds falls back to the validation split (with a
    warning and inner_folds=0 in the hyperparameters, so in the run id); set by the user
    with --set, the same folds are refused (test above)."""
    import polars as pl

    from serbench.models.plugin import MLP
    from serbench.protocols.base import Fold
    from serbench.run.config import RunConfig
    from serbench.run.model_hparams import inner_folds_fallback

    manifest = pl.DataFrame({"utt_id": ["a1", "a2", "b1", "c1"],
                             "speaker": ["A", "A", "B", "C"]})
    one_dev = [Fold("B", train=("a1",), valid=("a2",), test=("b1",))]
    two_dev = [Fold("C", train=("a1", "b1"), valid=("a2",), test=("c1",))]
    plain = RunConfig(model="mlp", corpus="manifest")
    hparams = {"inner_folds": 5}
    assert inner_folds_fallback(MLP, hparams, plain, two_dev, manifest) == []
    assert hparams["inner_folds"] == 5
    warnings = inner_folds_fallback(MLP, hparams, plain, one_dev, manifest)
    assert hparams["inner_folds"] == 0
    assert len(warnings) == 1 and "fold(s) B" in warnings[0] and "inner_folds=0" in warnings[0]
    explicit = RunConfig(model="mlp", corpus="manifest", overrides={"inner_folds": 5})
    hparams = {"inner_folds": 5}
    assert inner_folds_fallback(MLP, hparams, explicit, one_dev, manifest) == []
    assert hparams["inner_folds"] == 5  # left for check_folds to refuse
