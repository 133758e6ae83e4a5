"""`serbench run --model svm` and `serbench corpus info` end to end on each tiny release tree.

The trees are the ones of ``_release_trees`` (release layout, generated audio); the point
is that every loader's manifest goes through the real pipeline: validation, the corpus's
default label map and protocol (with its default options), eGeMAPS extraction, folds
and a run record.
"""

from __future__ import annotations

import pytest
from _release_trees import (
    cremad_tree,
    emodb_tree,
    enterface_tree,
    iemocap_tree,
    msp_podcast_tree,
    nemo_tree,
    ravdess_tree,
)
from click.testing import CliRunner

TREES = {
    "iemocap": lambda base: iemocap_tree(base),
    "enterface": lambda base: enterface_tree(base, subjects=5),
    "emodb": lambda base: emodb_tree(base),
    "ravdess": lambda base: ravdess_tree(base, actors=5),
    "cremad": lambda base: cremad_tree(base),
    "msp-podcast": lambda base: msp_podcast_tree(base),
    "nemo": lambda base: nemo_tree(base),
}
PROTOCOLS = {
    "iemocap": "loso", "enterface": "kfold", "emodb": "loso-speaker", "ravdess": "kfold",
    "cremad": "kfold", "msp-podcast": "official", "nemo": "loso-speaker",
}


#: run by default; the others are the same path on other loaders (tox -e slow)
FAST = ("iemocap", "nemo")


@pytest.mark.parametrize(
    "name",
    [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in sorted(TREES)],
)
def test_svm_runs_on_tiny_release(name, tmp_path, serbench_env):
    from serbench.run.pipeline import RunConfig, run_experiment

    root = TREES[name](tmp_path / "release")
    record = run_experiment(
        RunConfig(model="svm", corpus=name, data=root, runs_dir=serbench_env["SERBENCH_RUNS"]),
        progress=False,
    )
    assert record["corpus"]["name"] == name
    assert record["protocol"]["name"] == PROTOCOLS[name]
    assert record["protocol"]["n_folds"] == len(record["folds"]) >= 1
    assert record["protocol"]["speaker_independent"] is True
    assert 0.0 <= record["aggregate"]["pooled"]["ua"] <= 1.0


@pytest.mark.parametrize("name", ["iemocap", "msp-podcast"])
def test_corpus_info_prints_counts(name, tmp_path, serbench_env):
    from serbench.cli import cli

    root = TREES[name](tmp_path / "release")
    result = CliRunner().invoke(cli, ["corpus", "info", name, "--data", str(root)])
    assert result.exit_code == 0, result.output
    assert "speakers" in result.output and "labels" in result.output
    if name == "iemocap":
        assert "Ses01M" in result.output and "sessions" in result.output
    else:
        assert "podcast0005" in result.output and "official" in result.output
