"""``serbench compare``: McNemar's exact test and the paired speaker bootstrap of two runs."""

from __future__ import annotations

import json
from math import comb
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.compare import bootstrap_ua_difference, compare_runs, mcnemar_exact
from serbench.errors import ConfigError
from serbench.metrics.classification import ua
from serbench.run.folder import RunFolder

CLASSES = ["ang", "hap", "neu", "sad"]


def _rows(seed: int, accuracy: float, n: int = 48) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(99).integers(0, 4, n)  # the same labels for every run
    pred = np.where(rng.random(n) < accuracy, truth, rng.integers(0, 4, n))
    return {"utt_id": [f"u{i:03d}" for i in range(n)],
            "fold": [f"spk{i % 4}" for i in range(n)],
            "speaker": [f"spk{i % 4}" for i in range(n)],
            "label": [CLASSES[t] for t in truth], "pred": [CLASSES[p] for p in pred]}


def write_run(root: Path, run_id: str, rows: dict[str, list], split_hash: str = "abcd") -> Path:
    folder = root / run_id
    folder.mkdir(parents=True)
    record = {"run_id": run_id, "corpus": {"fingerprint": "f" * 16, "label_map": "4class",
                                           "classes": CLASSES},
              "protocol": {"name": "loso-speaker", "split_hash": split_hash}}
    (folder / "config.json").write_text(json.dumps({"run_id": run_id}))
    (folder / "record.json").write_text(json.dumps(record))
    pl.DataFrame(rows).write_parquet(folder / "predictions.parquet")
    return folder


def test_mcnemar_exact_matches_the_binomial_by_hand() -> None:
    # 7 utterances both right, 1 right only in A, 5 right only in B, 2 both wrong
    a = np.array([1] * 7 + [1] * 1 + [0] * 5 + [0] * 2, dtype=bool)
    b = np.array([1] * 7 + [0] * 1 + [1] * 5 + [0] * 2, dtype=bool)
    result = mcnemar_exact(a, b)
    # two-sided: 2 P(X <= 1), X ~ Binomial(6, 1/2) = 2 (1 + 6) / 64
    by_hand = 2 * (comb(6, 0) + comb(6, 1)) / 2**6
    assert (result["b"], result["c"]) == (1, 5)
    assert result["p"] == pytest.approx(by_hand) == pytest.approx(0.21875)
    assert mcnemar_exact(a, a)["p"] == 1.0  # no discordant pair: nothing to test


def test_bootstrap_point_estimate_is_the_plain_ua_difference() -> None:
    ra, rb = _rows(1, 0.8), _rows(2, 0.4)
    index = {c: i for i, c in enumerate(CLASSES)}
    y = np.array([index[c] for c in ra["label"]])
    pa = np.array([index[c] for c in ra["pred"]])
    pb = np.array([index[c] for c in rb["pred"]])
    boot = bootstrap_ua_difference(ra["speaker"], y, pa, pb, 4, n_boot=500)
    plain = ua(y, pa, classes=CLASSES) - ua(y, pb, classes=CLASSES)
    assert boot["delta"] == pytest.approx(plain)
    assert boot["ua_a"] == pytest.approx(ua(y, pa, classes=CLASSES))
    assert boot["low"] < boot["delta"] < boot["high"]
    assert boot["n_speakers"] == 4
    # identical predictions: every bootstrap difference is zero
    same = bootstrap_ua_difference(ra["speaker"], y, pa, pa, 4, n_boot=200)
    assert same["low"] == same["high"] == same["delta"] == 0.0


def test_bootstrap_resamples_speakers_not_utterances() -> None:
    # A is perfect on speaker s0 and wrong elsewhere; B the other way round on s1. With two
    # speakers a draw is {s0,s0}, {s1,s1} or one of each, so the interval spans the
    # extremes +-1 that an utterance bootstrap (48 draws per sample) would never reach.
    y = np.zeros(8, dtype=int)
    speakers = ["s0"] * 4 + ["s1"] * 4
    pa = np.array([0] * 4 + [1] * 4)
    pb = np.array([1] * 4 + [0] * 4)
    boot = bootstrap_ua_difference(speakers, y, pa, pb, 2, n_boot=400)
    assert boot["delta"] == 0.0
    assert (boot["low"], boot["high"]) == (-1.0, 1.0)


def test_compare_runs_and_cli(tmp_path: Path) -> None:
    a = write_run(tmp_path, "model_a-run", _rows(1, 0.9))
    b = write_run(tmp_path, "model_b-run", _rows(2, 0.3))
    result = compare_runs(RunFolder(a), RunFolder(b), n_boot=300)
    assert result["n_utterances"] == 48 and result["bootstrap"]["n_speakers"] == 4
    assert result["bootstrap"]["delta"] > 0.3 and result["mcnemar"]["p"] < 0.01
    out = CliRunner().invoke(cli, ["compare", "model_a-run", "model_b-run", "--runs-dir",
                                   str(tmp_path), "--n-boot", "300"])
    assert out.exit_code == 0, out.output
    assert "McNemar exact p" in out.output and "95% CI" in out.output
    assert f"{100 * result['bootstrap']['delta']:+.2f} points" in out.output
    assert "note: only 4 test speakers" in out.output
    as_json = CliRunner().invoke(cli, ["compare", str(a), str(b), "--json", "--n-boot", "300"])
    assert json.loads(as_json.output) == result


def write_run_with(root: Path, run_id: str, rows: dict[str, list], **protocol) -> Path:
    folder = write_run(root, run_id, rows)
    record = json.loads((folder / "record.json").read_text())
    record["protocol"].update(protocol)
    (folder / "record.json").write_text(json.dumps(record))
    return folder


def test_a_different_protocol_is_refused(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", _rows(1, 0.9))
    b = write_run_with(tmp_path, "b", _rows(2, 0.3), name="kfold", split_hash="other")
    with pytest.raises(ConfigError, match="not tested on the same split: protocol.name "
                                          "'loso-speaker' vs 'kfold' \\(split hash abcd vs other"):
        compare_runs(RunFolder(a), RunFolder(b))


def test_two_seeds_of_one_protocol_compare_with_a_note(tmp_path: Path) -> None:
    # LOSO seeds 0 and 1: the same test folds, but each seed draws its own validation
    # speakers, so the split hashes differ; the pair is comparable and says why
    a = write_run(tmp_path, "s0", _rows(1, 0.9))
    b = write_run_with(tmp_path, "s1", _rows(2, 0.3), split_hash="seed1")
    result = compare_runs(RunFolder(a), RunFolder(b), n_boot=200)
    assert (result["split_hash"], result["split_hash_b"]) == ("abcd", "seed1")
    assert any("split hashes differ (abcd vs seed1)" in w for w in result["warnings"])
    out = CliRunner().invoke(cli, ["compare", str(a), str(b), "--n-boot", "200"])
    assert out.exit_code == 0, out.output
    assert "abcd / seed1" in out.output and "note: split hashes differ" in out.output


def test_another_seeds_folds_are_refused_per_utterance(tmp_path: Path) -> None:
    # same protocol, different hash, but the utterances sit in other folds (an
    # utterance-level k-fold with another seed): refused by the per-utterance check
    rows = _rows(2, 0.3)
    rows["fold"] = rows["fold"][1:] + rows["fold"][:1]
    a = write_run(tmp_path, "a", _rows(1, 0.9))
    b = write_run_with(tmp_path, "b", rows, split_hash="seed1")
    with pytest.raises(ConfigError, match="disagree on the fold or label"):
        compare_runs(RunFolder(a), RunFolder(b))


def test_different_test_utterances_are_refused(tmp_path: Path) -> None:
    rows = _rows(2, 0.3)
    a = write_run(tmp_path, "a", _rows(1, 0.9))
    b = write_run(tmp_path, "b", {k: v[:-1] for k, v in rows.items()})
    with pytest.raises(ConfigError, match=r"tested different utterances \(48 vs 47; "
                                          r"only in the first: \['u047'\]"):
        compare_runs(RunFolder(a), RunFolder(b))


def test_unfinished_run_is_refused(tmp_path: Path) -> None:
    a = write_run(tmp_path, "a", _rows(1, 0.9))
    b = write_run(tmp_path, "b", _rows(2, 0.3))
    (b / "record.json").unlink()
    with pytest.raises(ConfigError, match="run b has no record.json yet"):
        compare_runs(RunFolder(a), RunFolder(b))


def test_a_different_label_or_fold_per_utterance_is_refused(tmp_path: Path) -> None:
    rows = _rows(2, 0.3)
    rows["label"] = ["sad" if c != "sad" else "ang" for c in rows["label"][:1]] + rows["label"][1:]
    a = write_run(tmp_path, "a", _rows(1, 0.9))
    b = write_run(tmp_path, "b", rows)
    with pytest.raises(ConfigError, match=r"disagree on the fold or label of 1 utterance\(s\) "
                                          r"\(e.g. u000\)"):
        compare_runs(RunFolder(a), RunFolder(b))
