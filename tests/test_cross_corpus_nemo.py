"""Cross-corpus on real speech: nEMO (``../shared/data/nemo``) to the synthetic corpus and
back, on the four shared classes, with the SVM. Slow: eGeMAPS of 1,294 nEMO files takes
minutes on a fresh cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from serbench.corpora.api import corpus_fingerprint, load_corpus
from serbench.leaderboard.records import benchmark_id
from serbench.run.pipeline import RunConfig, run_experiment

SHARED = Path(os.environ.get("SERBENCH_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))
NEMO = SHARED / "nemo"


@pytest.mark.slow
@pytest.mark.skipif(not (NEMO / "data.tsv").is_file(), reason=f"no nEMO subset at {NEMO}")
@pytest.mark.parametrize("train, test", [("nemo", "synthetic"), ("synthetic", "nemo")])
def test_nemo_and_synthetic_both_ways(serbench_env, train, test):
    data = {"nemo": NEMO, "synthetic": None}
    options = {"nemo": {}, "synthetic": {"size": "small"}}
    record = run_experiment(RunConfig(
        model="svm", corpus=train, data=data[train], corpus_options=options[train],
        test_corpus=test, test_data=data[test], test_corpus_options=options[test],
        label_map="4class"), progress=False)
    cross = record["cross_corpus"]
    assert benchmark_id(record) == f"{train}-to-{test}-4class"
    assert cross["classes"] == record["corpus"]["classes"] == ["angry", "happy", "neutral", "sad"]
    for part, name in ((cross["train"][0], train), (cross["test"], test)):
        corpus = load_corpus(name, data[name], options[name])
        assert part["name"] == name and part["fingerprint"] == corpus_fingerprint(corpus)
        assert part["label_map"] == "4class"
    (fold,) = record["folds"]
    assert fold["n_test"] == cross["test"]["n_utterances"]
    assert {s.split(":")[0] for s in fold["test_speakers"]} == {test}
    assert record["feature"]["normalisation"] == "speaker"
    assert cross["normalisation_statistics"].startswith("speaker: each speaker's own")
    assert record["aggregate"]["pooled"]["ua"] > 0.30  # chance is 0.25
