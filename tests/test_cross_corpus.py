"""Cross-corpus evaluation (serbench/crosscorpus, protocol cross-corpus, run --test-corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.components import LabelMap
from serbench.crosscorpus.classes import pick_label_map, shared_classes
from serbench.crosscorpus.features import join_tables
from serbench.errors import ConfigError
from serbench.features.table import FeatureTable
from serbench.protocols.api import make_folds
from serbench.testing.corpora import write_tiny_corpus


def _map(name: str, classes: tuple[str, ...]) -> LabelMap:
    return LabelMap(name=name, mapping={c: c for c in classes}, classes=classes)


def test_classes_are_matched_by_name_in_the_training_order():
    train = _map("6class", ("angry", "fear", "happy", "neutral", "sad", "surprise"))
    test = _map("5class", ("sad", "neutral", "excited", "angry", "frustrated"))
    classes, dropped = shared_classes([("nemo", train), ("other", test)])
    assert classes == ["angry", "neutral", "sad"]
    assert dropped == {"nemo": ["fear", "happy", "surprise"], "other": ["excited", "frustrated"]}


def test_fewer_than_two_shared_classes_are_refused_naming_both_maps():
    with pytest.raises(ConfigError) as info:
        shared_classes([("a", _map("mine", ("angry", "calm"))),
                        ("b", _map("theirs", ("angry", "fear", "disgust")))])
    message = str(info.value)
    assert "a label map 'mine': angry, calm" in message
    assert "b label map 'theirs': angry, fear, disgust" in message
    assert "share 1 class name(s) (angry)" in message


def test_label_map_choice_explicit_then_same_name_then_default():
    maps = {"4class": _map("4class", ("a", "b")), "6class": _map("6class", ("a", "b", "c"))}
    assert pick_label_map("x", maps, "6class", "4class", None, "--t")[0] == "4class"
    assert pick_label_map("x", maps, "6class", "7class", None, "--t")[0] == "6class"
    assert pick_label_map("x", maps, "4class", "4class", "6class", "--t") == ("6class", "--t")
    with pytest.raises(ConfigError, match="--t 'nope': corpus 'x' has no such label map"):
        pick_label_map("x", maps, "4class", None, "nope", "--t")


def _joined(train_speakers: int = 4) -> pl.DataFrame:
    rows = []
    for corpus, role, n in (("a", "train", train_speakers), ("b", "test", 2)):
        for s in range(n):
            for i in range(4):
                rows.append({"utt_id": f"{corpus}:{s}_{i}", "speaker": f"{corpus}:s{s}",
                             "label": ("x", "y")[i % 2], "corpus": corpus, "role": role})
    return pl.DataFrame(rows)


def test_protocol_tests_on_the_test_corpus_and_validates_on_training_speakers():
    manifest = _joined()
    (fold,) = make_folds(manifest, "cross-corpus", seed=3)
    assert fold.name == "a-to-b"
    assert set(fold.test) == {u for u in manifest["utt_id"] if u.startswith("b:")}
    assert all(u.startswith("a:") for u in fold.train + fold.valid)
    valid_speakers = {u.split("_")[0] for u in fold.valid}
    train_speakers = {u.split("_")[0] for u in fold.train}
    assert len(valid_speakers) == 1 and not valid_speakers & train_speakers


def test_protocol_without_a_test_corpus_says_how_to_use_it():
    with pytest.raises(ConfigError, match="--test-corpus"):
        make_folds(_joined().drop("role"), "cross-corpus")


def test_joined_features_tag_ids_and_keep_values():
    a = FeatureTable.from_arrays({"u1": np.ones(3), "u2": np.zeros(3)}, ["f0", "f1", "f2"],
                                 "functionals", {"excluded": {"u9": "silent"}})
    b = FeatureTable.from_arrays({"u1": np.full(3, 2.0)}, ["f0", "f1", "f2"], "functionals")
    joined = join_tables({"a": a, "b": b})
    assert joined.ids == ["a:u1", "a:u2", "b:u1"]
    assert joined["b:u1"].tolist() == [2.0, 2.0, 2.0] and joined["a:u1"].tolist() == [1.0] * 3
    assert joined.info()["excluded"] == {"a:u9": "silent"}
    other = FeatureTable.from_arrays({"u1": np.ones(2)}, ["f0", "f1"], "functionals")
    with pytest.raises(ConfigError, match="'c'"):
        join_tables({"a": a, "c": other})


@pytest.fixture
def two_corpora(tmp_path, serbench_env):
    a = write_tiny_corpus(tmp_path / "a", speakers=4, per_speaker=8, seed=0)
    b = write_tiny_corpus(tmp_path / "b", speakers=2, per_speaker=8, seed=1,
                          labels=("angry", "happy", "sad", "fear"))
    return a, b, serbench_env


def _run(*args: str):
    return CliRunner().invoke(cli, ["run", "--model", "svm", "-q", *args])


def test_run_trains_on_one_corpus_and_tests_on_the_other(two_corpora):
    a, b, env = two_corpora
    result = _run("--corpus", "manifest", "--data", str(a), "--test-corpus", "manifest",
                  "--test-data", str(b), "--normalisation", "global")
    assert result.exit_code == 0, result.output + repr(result.exception)
    (run,) = (env["SERBENCH_RUNS"]).iterdir()
    assert run.name.startswith("svm-manifest-to-manifest-cross-corpus-s0-")
    record = json.loads((run / "record.json").read_text())
    cross = record["cross_corpus"]
    assert record["corpus"]["name"] == cross["pair"] == "manifest-to-manifest"
    assert record["corpus"]["classes"] == cross["classes"] == ["angry", "happy", "sad"]
    assert cross["dropped_classes"] == {"manifest": ["neutral"], "manifest#2": ["fear"]}
    assert cross["train"][0]["fingerprint"] != cross["test"]["fingerprint"]
    assert cross["normalisation_statistics"].startswith("global: one mean and std fitted on "
                                                        "the training corpus")
    (fold,) = record["folds"]
    assert all(s.startswith("manifest#2:") for s in fold["test_speakers"])
    assert all(s.startswith("manifest:") for s in fold["train_speakers"] + fold["valid_speakers"])
    assert fold["n_test"] == 12 and fold["n_train"] + fold["n_valid"] == 24
    # global statistics: fitted on the training part only, never on the test corpus
    stats = np.load(run / "normalisation_manifest-to-manifest.npz", allow_pickle=False)
    assert int(stats["n_fit"]) == fold["n_train"]
    from serbench.leaderboard.records import benchmark_id

    assert benchmark_id(record) == "manifest-to-manifest-all"
    assert any("neutral" in w for w in record["warnings"])


def test_run_refuses_a_pair_without_two_shared_classes_before_any_work(tmp_path, serbench_env):
    a = write_tiny_corpus(tmp_path / "a", speakers=3, per_speaker=4, labels=("angry", "calm"))
    b = write_tiny_corpus(tmp_path / "b", speakers=2, per_speaker=4, labels=("angry", "fear"))
    result = _run("--corpus", "manifest", "--data", str(a), "--test-corpus", "manifest",
                  "--test-data", str(b))
    assert isinstance(result.exception, ConfigError)
    assert "label map 'all': angry, calm" in str(result.exception)
    assert "label map 'all': angry, fear" in str(result.exception)
    assert not list(Path(serbench_env["SERBENCH_CACHE"]).iterdir())
    assert not list(Path(serbench_env["SERBENCH_RUNS"]).iterdir())


@pytest.mark.parametrize("args, flag", [
    (["--test-data", "x"], "--test-corpus NAME"),
    (["--test-corpus", "synthetic", "--protocol", "loso"], "--protocol loso"),
])
def test_cross_corpus_flags_are_checked_first(serbench_env, args, flag):
    result = _run(*args)
    assert isinstance(result.exception, ConfigError) and flag in str(result.exception)


def test_a_cross_corpus_run_folder_config_reruns_the_same_run(two_corpora, monkeypatch):
    a, b, env = two_corpora
    first = _run("--corpus", "manifest", "--data", str(a), "--test-corpus", "manifest",
                 "--test-data", str(b), "--corpus-extra", f"manifest={a}")
    assert first.exit_code == 0, first.output + repr(first.exception)
    (run,) = env["SERBENCH_RUNS"].iterdir()
    assert run.name.startswith("svm-manifest+manifest-to-manifest-cross-corpus-")
    record = json.loads((run / "record.json").read_text())
    assert [p["tag"] for p in record["cross_corpus"]["train"]] == ["manifest", "manifest#2"]
    monkeypatch.chdir(run)  # paths in config.json are absolute
    again = _run("--config", str(run / "config.json"))
    assert again.exit_code == 0, again.output + repr(again.exception)
    assert "already complete" in again.output and [p.name for p in
                                                  env["SERBENCH_RUNS"].iterdir()] == [run.name]
