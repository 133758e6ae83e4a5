"""The nEMO and EmoDB loaders on real recordings (``../shared/data`` beside the repo).

nEMO: a 6-speaker, 1,294-file subset in the release's own layout. EmoDB: seven original
files kept flat (the release keeps them under ``wav/``); the loader reads both layouts,
and this test checks that the flat folder and a ``wav/`` layout give the same manifest.
The SVM anchor on nEMO (pooled UA near 59% with per-speaker normalisation) runs as a
slow test because eGeMAPS extraction of 1,294 files takes minutes.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from serbench.corpora.api import experiment_manifest, load_corpus
from serbench.protocols.api import make_folds

SHARED = Path(os.environ.get("SERBENCH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
NEMO = SHARED / "nemo"
EMODB = SHARED / "emodb-sample"

needs_nemo = pytest.mark.skipif(not (NEMO / "data.tsv").is_file(), reason=f"no nEMO subset at {NEMO}")
needs_emodb = pytest.mark.skipif(not EMODB.is_dir(), reason=f"no EmoDB sample at {EMODB}")


@needs_nemo
def test_nemo_real_subset(serbench_env):
    corpus = load_corpus("nemo", NEMO)  # validates every file's header too
    m = corpus.manifest
    assert m.height == 1294
    speakers = m.group_by("speaker").len().sort("speaker")
    assert speakers["speaker"].to_list() == ["EB0", "IC0", "KD0", "KS0", "SM0", "TP0"]
    assert speakers["len"].to_list() == [215, 216, 216, 216, 216, 215]
    labels = dict(m.group_by("label").len().iter_rows())
    assert labels == {"anger": 216, "fear": 216, "happiness": 216, "neutral": 216,
                      "sadness": 216, "surprised": 214}
    genders = dict(m.select("speaker", "gender").unique().iter_rows())
    assert genders == {"EB0": "female", "IC0": "female", "KD0": "female",
                       "KS0": "male", "SM0": "male", "TP0": "male"}
    row = m.filter(pl.col("utt_id") == "KS0_surprised_10").row(0, named=True)
    assert row["transcript"] == "Kupiłem nową szafę do sypialni."
    assert row["age"] == 23 and row["sentence"] == 10
    six = experiment_manifest(corpus)
    assert six.height == 1294 and set(six["label"]) == {
        "angry", "fear", "happy", "neutral", "sad", "surprise"}
    folds = make_folds(six, corpus.default_protocol)
    assert sorted(f.name for f in folds) == ["EB0", "IC0", "KD0", "KS0", "SM0", "TP0"]


@needs_emodb
def test_emodb_sample_flat_and_wav_layouts(tmp_path, serbench_env):
    flat = load_corpus("emodb", EMODB).manifest
    assert flat.height == 7
    assert dict(zip(flat["utt_id"], flat["label"], strict=True)) == {
        "03a01Fa": "happiness", "03a01Nc": "neutral", "03a01Wa": "anger", "03a02Ta": "sadness",
        "03a04Ad": "fear", "03a04Lc": "boredom", "03b10Ec": "disgust",
    }
    assert set(flat["speaker"]) == {"03"} and set(flat["gender"]) == {"male"}
    release = tmp_path / "emodb"
    release.mkdir()
    (release / "wav").symlink_to(EMODB, target_is_directory=True)
    layered = load_corpus("emodb", release).manifest
    assert layered.drop("path").equals(flat.drop("path"))
    assert all("/wav/" in p for p in layered["path"])


@pytest.mark.slow
@needs_nemo
def test_nemo_svm_anchor(serbench_env):
    """eGeMAPSv02 + per-speaker z-norm + RBF SVM (C=1, balanced), leave-one-speaker-out:
    an independent pipeline scores 59% pooled UA (30% without per-speaker normalisation)."""
    from serbench.run.pipeline import RunConfig, run_experiment

    ua = {}
    for normalisation in ("speaker", "none"):
        record = run_experiment(
            RunConfig(model="svm", corpus="nemo", data=NEMO, normalisation=normalisation),
            progress=False,
        )
        assert record["protocol"]["n_folds"] == 6
        ua[normalisation] = record["aggregate"]["pooled"]["ua"]
    assert abs(ua["speaker"] - 0.59) <= 0.02, ua
    # how much the normalisation matters: without it the SVM stays near 30%
    assert ua["none"] < 0.36 and ua["speaker"] - ua["none"] > 0.2, ua
