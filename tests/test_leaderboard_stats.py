"""Leaderboard statistics: grouping over seeds, paired tests, bootstrap CIs, warnings."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np
import pytest
from _leaderboard_records import make_record

from serbench.leaderboard.grouping import group_key
from serbench.leaderboard.records import entry_from_record
from serbench.leaderboard.significance import (
    bootstrap_counts,
    bootstrap_folds,
    holm,
    paired_test,
)
from serbench.leaderboard.summary import summarise

METRICS = ["ua", "wa", "macro_f1"]


def entry(with_predictions: bool = True, **kwargs) -> dict:
    """A leaderboard entry from a factory record (with prediction counts by default)."""
    record, frame = make_record(**kwargs)
    if not with_predictions:
        return entry_from_record(record, benchmark="b")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions.parquet"
        frame.write_parquet(path)
        return entry_from_record(record, benchmark="b", predictions=path)


def test_entries_differing_only_in_seed_are_one_group() -> None:
    runs = [entry(seed=s, skill=0.7) for s in range(3)]
    other_hp = entry(seed=0, skill=0.7, hyperparameters={"hidden": 32, "lr": 0.001})
    assert len({group_key(e) for e in runs}) == 1
    assert group_key(other_hp) != group_key(runs[0])
    summary = summarise([*runs, other_hp], METRICS)
    assert len(summary["groups"]) == 2
    group = next(g for g in summary["groups"] if g["seeds"] == [0, 1, 2])
    pooled = [e["aggregate"]["pooled"]["ua"] for e in runs]
    assert group["scores"]["ua"]["pooled"] == pytest.approx(statistics.fmean(pooled))
    assert group["scores"]["ua"]["seed_std"] == pytest.approx(statistics.stdev(pooled))
    assert group["scores"]["ua"]["mean"] == pytest.approx(
        statistics.fmean(e["aggregate"]["mean"]["ua"] for e in runs))
    assert group["run_ids"] == sorted(e["run_id"] for e in runs)
    assert set(group["fold_scores"]) == {"0", "1", "2"}
    assert group["timing"]["clock"] == "cpu_monotonic"


def test_a_clearly_worse_entry_is_marked_significant_and_a_close_one_is_not() -> None:
    speakers = [f"s{i}" for i in range(8)]
    strong = [entry(model="strong", seed=s, skill=0.85, speakers=speakers) for s in range(2)]
    close = [entry(model="close", seed=s, skill=0.84, speakers=speakers) for s in range(2)]
    weak = [entry(model="weak", seed=s, skill=0.35, speakers=speakers) for s in range(2)]
    summary = summarise([*weak, *close, *strong], METRICS)
    by_model = {g["model"]: g for g in summary["groups"]}
    assert summary["groups"][0]["model"] in {"strong", "close"}
    assert summary["groups"][-1]["model"] == "weak"
    assert by_model["weak"]["comparison"]["significant"] is True
    assert by_model["weak"]["comparison"]["pairing"] == "seed+fold"
    assert by_model["weak"]["comparison"]["n_pairs"] == 16
    runner_up = summary["groups"][1]
    assert runner_up["model"] in {"strong", "close"}
    assert runner_up["comparison"]["significant"] is False
    assert summary["groups"][0]["comparison"] is None


def test_paired_test_pairs_folds_when_seeds_differ_and_flags_too_few_pairs() -> None:
    a = {(0, "s1"): 0.8, (0, "s2"): 0.7, (1, "s1"): 0.6, (1, "s2"): 0.9}
    b = {(5, "s1"): 0.5, (5, "s2"): 0.6}
    result = paired_test(a, b)
    assert result["pairing"] == "fold" and result["n_pairs"] == 2
    assert result["delta"] == pytest.approx(((0.7 - 0.5) + (0.8 - 0.6)) / 2)
    assert result["attainable"] is False  # 2 pairs: smallest p is 0.5
    assert paired_test(a, {(0, "other"): 0.1}) is None


def test_paired_test_is_exact_for_small_samples() -> None:
    a = {(0, f"f{i}"): 0.9 for i in range(6)}
    b = {(0, f"f{i}"): 0.5 for i in range(6)}
    result = paired_test(a, b)
    assert result["p"] == pytest.approx(2 / 2**6)  # all signs agree: 2 of 64 sign patterns
    assert paired_test(a, dict(a))["p"] == 1.0


def test_holm_adjustment() -> None:
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([]) == []


def test_speaker_bootstrap_ci_brackets_the_pooled_ua_and_narrows_with_data() -> None:
    few = entry(skill=0.7, speakers=["a", "b", "c", "d"], per_class=5)
    many = entry(skill=0.7, speakers=[f"x{i}" for i in range(16)], per_class=20)
    ci_few, ci_many = bootstrap_counts([few]), bootstrap_counts([many])
    for ci, e in ((ci_few, few), (ci_many, many)):
        assert ci["low"] <= e["aggregate"]["pooled"]["ua"] <= ci["high"]
        assert ci["estimate"] == pytest.approx(e["aggregate"]["pooled"]["ua"])
    assert ci_many["high"] - ci_many["low"] < ci_few["high"] - ci_few["low"]
    assert ci_few["clusters"] == 4 and "speaker" in ci_few["method"]
    assert bootstrap_counts([entry(with_predictions=False)]) is None


def test_fold_bootstrap_is_used_without_predictions() -> None:
    runs = [entry(with_predictions=False, seed=s) for s in range(2)]
    group = summarise(runs, METRICS)["groups"][0]
    assert "fold scores" in group["ci"]["method"] and group["ci"]["clusters"] == 8
    ci = bootstrap_folds([0.5, 0.6, 0.7, 0.8])
    assert ci["low"] < np.mean([0.5, 0.6, 0.7, 0.8]) < ci["high"]
    assert bootstrap_folds([0.5]) is None


def test_warnings_for_different_splits_fingerprints_and_devices() -> None:
    a = entry(model="a", split_hash="1" * 16)
    b = entry(model="b", split_hash="2" * 16, device_name="NVIDIA H100", clock="cuda_events")
    c = entry(model="c", fingerprint="0" * 16)
    warnings = summarise([a, b, c], METRICS)["warnings"]
    text = "\n".join(warnings)
    assert "3 different split hashes" in text and "1111111111111111" in text
    assert "test the same utterances" in text  # only the train/valid carving differs
    d = entry(model="d", split_hash="3" * 16, speakers=["s1", "s2", "s3", "s5"])
    other_tests = "\n".join(summarise([a, d], METRICS)["warnings"])
    assert "2 different splits" in other_tests and "different test sets" in other_tests
    assert "2 different corpus fingerprints" in text
    assert "NVIDIA H100" in text and "cuda_events" in text
    assert summarise([entry(model="a"), entry(model="b")], METRICS)["warnings"] == []


def test_rows_of_the_same_model_say_what_differs() -> None:
    a = entry(model="svm", hyperparameters={"C": 1.0, "kernel": "rbf"})
    b = entry(model="svm", hyperparameters={"C": 1.0, "kernel": "linear"})
    c = entry(model="rlc")
    groups = {g["distinct"] for g in summarise([a, b, c], METRICS)["groups"]}
    assert groups == {"kernel=rbf", "kernel=linear", ""}


def test_a_group_whose_seeds_tested_different_utterances_is_flagged() -> None:
    runs = [entry(seed=0, split_hash="1" * 16),
            entry(seed=1, split_hash="2" * 16, speakers=["s1", "s2", "s3", "s9"])]
    text = "\n".join(summarise(runs, METRICS)["warnings"])
    assert "bilstm_att: its seeds tested different utterances" in text
