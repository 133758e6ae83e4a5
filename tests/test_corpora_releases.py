"""The real-corpus loaders on tiny trees in each release's exact layout (built here)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from _release_trees import (
    cremad_tree,
    emodb_tree,
    enterface_tree,
    iemocap_dialog,
    iemocap_tree,
    msp_podcast_tree,
    nemo_tree,
    ravdess_tree,
    wav,
)

from serbench.corpora.api import experiment_manifest, load_corpus
from serbench.corpora.releases import (
    cremad,
    emodb,
    enterface,
    iemocap,
    msp_podcast,
    nemo,
    ravdess,
    video_audio,
)
from serbench.errors import ConfigError, DataNotFoundError, ManifestError
from serbench.protocols.api import make_folds

# --- IEMOCAP -----------------------------------------------------------------------------


def test_iemocap_labels_speakers_turns_and_quirks(tmp_path, serbench_env, caplog):
    root = iemocap_tree(tmp_path)
    with caplog.at_level(logging.WARNING):
        corpus = iemocap.load(root, {})
    m = corpus.manifest
    # per session: 6 + 3 (xxx, oth, fru) improvised labels, 6 scripted; M005 has no label
    assert m.height == 2 * 15
    assert "Ses01F_impro01_M005" not in m["utt_id"].to_list()
    assert "M005" in caplog.text and "no label" in caplog.text
    assert {"xxx", "oth", "fru"} <= set(m["label"].to_list())
    row = m.filter(pl.col("utt_id") == "Ses01F_impro01_M001").row(0, named=True)
    assert row["speaker"] == "Ses01M" and row["gender"] == "male" and row["session"] == "Ses01"
    assert row["dialog"] == "Ses01F_impro01" and row["dialog_kind"] == "improvised"
    assert row["transcript"] == "words of M001."
    assert row["path"].endswith("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M001.wav")
    assert row["valence"] == 2.5 and row["dominance"] == 2.0
    # the label file lists utterances backwards: turn follows the start times
    dialog = m.filter(pl.col("dialog") == "Ses01F_impro01").sort("dialog_start")
    assert dialog["turn"].to_list() == list(range(dialog.height))
    scripted = m.filter(pl.col("dialog") == "Ses02M_script01_1")
    assert set(scripted["dialog_kind"]) == {"scripted"}
    assert set(m.filter(pl.col("session") == "Ses02")["speaker"]) == {"Ses02F", "Ses02M"}


def test_iemocap_label_maps(tmp_path, serbench_env):
    corpus = load_corpus("iemocap", iemocap_tree(tmp_path))  # validation passes: xxx/oth known
    four = experiment_manifest(corpus, "4class")
    assert set(four["label"]) == {"angry", "happy", "neutral", "sad"}
    assert not set(four["raw_label"]) & {"xxx", "oth", "fru"}
    nomerge = experiment_manifest(corpus, "4class-nomerge")
    assert "exc" not in set(nomerge["raw_label"]) and nomerge.height < four.height
    five = experiment_manifest(corpus, "5class")
    assert set(five["label"]) == {"angry", "excited", "frustrated", "neutral", "sad"}
    improvised = experiment_manifest(corpus, "4class-improvised")
    assert set(improvised["dialog_kind"]) == {"improvised"} and improvised.height < four.height
    folds = make_folds(four, corpus.default_protocol)
    assert [f.name for f in folds] == ["Ses01", "Ses02"]


def test_iemocap_label_without_wav_is_reported_by_validation(tmp_path, serbench_env):
    root = iemocap_tree(tmp_path)
    iemocap_dialog(root, 1, "Ses01F_impro02", [("F000", "neu", 1.0), ("M000", "sad", 2.0)],
                   no_wav=("M000",))
    with pytest.raises(ManifestError) as err:
        load_corpus("iemocap", root)
    assert "missing audio file" in str(err.value) and "Ses01F_impro02_M000.wav" in str(err.value)


def test_iemocap_complete_release_count_check(tmp_path, serbench_env):
    root = iemocap_tree(tmp_path, sessions=5)
    with pytest.raises(DataNotFoundError, match=r"found 60 of 5,531") as err:
        iemocap.load(root, {})
    assert "Ses01: 12 of 1,085" in str(err.value) and "check_counts=false" in str(err.value)
    assert iemocap.load(root, {"check_counts": "false"}).manifest.height == 5 * 15


def test_iemocap_bad_summary_line_names_file_and_line(tmp_path, serbench_env):
    root = iemocap_tree(tmp_path)
    path = root / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt"
    path.write_text(path.read_text() + "[12.0 - 13.0]\tSes01F_impro01_F009\tneu\n")
    with pytest.raises(ManifestError, match=r"Ses01F_impro01.txt line \d+"):
        iemocap.load(root, {})


def test_iemocap_missing_labels_folder_is_incomplete(tmp_path, serbench_env):
    root = iemocap_tree(tmp_path)
    for f in (root / "Session2" / "dialog" / "EmoEvaluation").glob("*.txt"):
        f.unlink()
    for d in (root / "Session2" / "dialog" / "EmoEvaluation").iterdir():
        d.rmdir()
    (root / "Session2" / "dialog" / "EmoEvaluation").rmdir()
    with pytest.raises(DataNotFoundError, match="incomplete.*EmoEvaluation"):
        iemocap.load(root, {})


def test_iemocap_missing_wav_folder_and_partial_release(tmp_path, serbench_env, caplog):
    root = iemocap_tree(tmp_path)
    with caplog.at_level(logging.WARNING):
        iemocap.load(root, {})
    assert "Session3, Session4, Session5 not in" in caplog.text
    shutil.rmtree(root / "Session2" / "sentences")
    with pytest.raises(DataNotFoundError, match=r"incomplete.*Session2/sentences/wav"):
        iemocap.load(root, {})


# --- finding the release -----------------------------------------------------------------


def test_missing_data_says_where_to_get_it(tmp_path, serbench_env):
    with pytest.raises(DataNotFoundError) as err:
        iemocap.load(None, {})
    text = str(err.value)
    assert "sail.usc.edu" in text and "--data" in text and "SERBENCH_DATA/iemocap" in text


def test_folder_of_another_corpus_is_named(tmp_path, serbench_env):
    root = ravdess_tree(tmp_path, actors=1)
    with pytest.raises(DataNotFoundError, match="looks like RAVDESS.*--corpus ravdess"):
        cremad.load(root, {})
    with pytest.raises(DataNotFoundError, match="--corpus cremad"):
        nemo.load(cremad_tree(tmp_path, actors=1), {})


def test_release_one_folder_down_is_found(tmp_path, serbench_env):
    nemo_tree(serbench_env["SERBENCH_DATA"] / "nemo")  # SERBENCH_DATA/nemo/nEMO/...
    corpus = nemo.load(None, {})
    assert corpus.root.name == "nEMO" and corpus.manifest.height == 36


def test_unknown_option_lists_the_known_ones(tmp_path, serbench_env):
    with pytest.raises(ConfigError, match="channel"):
        ravdess.load(ravdess_tree(tmp_path, actors=1), {"chanel": "song"})


# --- nEMO --------------------------------------------------------------------------------


def test_nemo_strips_speaker_padding_and_keeps_surprised(tmp_path, serbench_env):
    corpus = load_corpus("nemo", nemo_tree(tmp_path))
    m = corpus.manifest
    assert sorted(set(m["speaker"])) == ["AB0", "CD0", "EF0"]
    assert set(m["label"]) == set(nemo.RAW_LABELS)
    six = experiment_manifest(corpus)
    assert "surprise" in set(six["label"]) and six.height == 36
    assert corpus.default_protocol == "loso-speaker"
    assert len(make_folds(six, "loso-speaker")) == 3


def test_nemo_row_disagreeing_with_file_name(tmp_path, serbench_env):
    root = nemo_tree(tmp_path)
    tsv = root / "data.tsv"
    tsv.write_text(tsv.read_text().replace("AB0_fear_0.wav\tfear", "AB0_fear_0.wav\tanger"))
    with pytest.raises(ManifestError, match="AB0_fear_0.wav.*emotion 'anger'"):
        nemo.load(root, {})


def test_nemo_unlisted_audio_and_missing_audio(tmp_path, serbench_env, caplog):
    root = nemo_tree(tmp_path)
    wav(root / "samples" / "ZZ0_anger_1.wav")
    (root / "samples" / "CD0_sadness_2.wav").unlink()
    with caplog.at_level(logging.WARNING):
        corpus = nemo.load(root, {})
    assert "ZZ0_anger_1" not in corpus.manifest["utt_id"].to_list() and "ZZ0_anger_1" in caplog.text
    with pytest.raises(ManifestError, match=r"missing audio file .*CD0_sadness_2.wav"):
        load_corpus("nemo", root)


def test_lfs_pointers_are_detected(tmp_path, serbench_env):
    root = nemo_tree(tmp_path)
    for p in sorted((root / "samples").glob("*.wav"))[:3]:
        p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n")
    with pytest.raises(DataNotFoundError, match="git lfs pull"):
        nemo.load(root, {})


def test_zero_length_and_unreadable_audio_are_all_reported(tmp_path, serbench_env):
    root = nemo_tree(tmp_path)
    (root / "samples" / "EF0_fear_2.wav").write_bytes(b"")
    (root / "samples" / "AB0_anger_0.wav").write_bytes(b"RIFF\x00\x00not a wave file at all")
    with pytest.raises(ManifestError) as err:
        load_corpus("nemo", root)
    text = str(err.value)
    assert "2 problem(s)" in text
    assert re.search(r"empty \(zero-length\) audio file .*EF0_fear_2.wav", text)
    assert re.search(r"unreadable audio file .*AB0_anger_0.wav", text)


# --- EmoDB -------------------------------------------------------------------------------


@pytest.mark.parametrize("flat", [False, True])
def test_emodb_codes(tmp_path, serbench_env, flat):
    corpus = load_corpus("emodb", emodb_tree(tmp_path, flat=flat))
    m = corpus.manifest
    assert m.height == 28 and set(m["label"]) == set(emodb.EMOTIONS.values())
    row = m.filter(pl.col("utt_id") == "08a02La").row(0, named=True)
    assert (row["speaker"], row["label"], row["gender"], row["age"]) == ("08", "boredom", "female", 34)
    assert row["transcript"] == "Das will sie am Mittwoch abgeben."
    assert set(experiment_manifest(corpus)["label"]) == set(emodb.LABEL_MAPS["7class"].classes)


# --- RAVDESS -----------------------------------------------------------------------------


def test_ravdess_speech_only_by_default(tmp_path, serbench_env):
    root = ravdess_tree(tmp_path)
    m = load_corpus("ravdess", root).manifest
    assert m.height == 4 * 8 and set(m["channel"]) == {"speech"}
    row = m.filter(pl.col("utt_id") == "03-01-05-02-01-01-03").row(0, named=True)
    assert (row["label"], row["speaker"], row["gender"], row["intensity"]) == (
        "angry", "03", "male", "strong")
    assert row["transcript"] == "Kids are talking by the door"
    assert set(ravdess.load(root, {"channel": "song"}).manifest["channel"]) == {"song"}
    assert ravdess.load(root, {"channel": "all"}).manifest.height == 4 * 14
    with pytest.raises(ConfigError, match="channel"):
        ravdess.load(root, {"channel": "sung"})


# --- CREMA-D -----------------------------------------------------------------------------


def test_cremad_intensity_codes_and_broken_clip(tmp_path, serbench_env):
    root = cremad_tree(tmp_path)
    corpus = load_corpus("cremad", root)  # the zero-length 1076_MTI_SAD_XX is left out
    m = corpus.manifest
    assert m.height == 5 * 12 and "1076_MTI_SAD_XX" not in m["utt_id"].to_list()
    assert set(m["intensity"]) == {"unspecified", "low", "high"}
    row = m.filter(pl.col("utt_id") == "1002_IEO_ANG_LO").row(0, named=True)
    assert (row["label"], row["intensity"], row["gender"], row["sentence"]) == (
        "anger", "low", "male", "IEO")
    assert row["transcript"] == "It's eleven o'clock."
    high = cremad.load(root, {"intensity": "HI"}).manifest
    assert set(high["intensity"]) == {"high"} and high.height == 5 * 4
    with pytest.raises(ConfigError, match="intensity"):
        cremad.load(root, {"intensity": "LOUD"})
    with pytest.raises(ManifestError, match="1076_MTI_SAD_XX"):
        load_corpus("cremad", root, {"keep_broken": "true"})
    folds = make_folds(experiment_manifest(corpus), "kfold",
                       options=corpus.protocol_options["kfold"])
    assert len(folds) == 5


# --- MSP-Podcast -------------------------------------------------------------------------


def test_msp_podcast_official_split(tmp_path, serbench_env):
    corpus = load_corpus("msp-podcast", msp_podcast_tree(tmp_path))
    m = corpus.manifest
    assert m.height == 5 * 6  # the Test3 row without a class is left out
    assert set(m["split"]) == {"train", "valid", "test", "test2"}
    assert {"no-agreement", "other"} <= set(m["label"])
    unknown = m.filter(pl.col("split") == "test2")
    assert set(unknown["speaker"]) == {"podcast0005"} and unknown["gender"].null_count() == 6
    four = experiment_manifest(corpus)
    folds = make_folds(four, "official", options=corpus.protocol_options["official"])
    (fold,) = folds
    by_split = dict(zip(four["utt_id"], four["split"], strict=True))
    assert {by_split[u] for u in fold.test} == {"test"}
    assert {by_split[u] for u in fold.valid} == {"valid"}
    assert {by_split[u] for u in fold.train} == {"train"}
    test2 = make_folds(four, "official", options={"test": "test2", "exclude": "test"})
    assert {by_split[u] for u in test2[0].test} == {"test2"}


def test_msp_podcast_missing_labels_csv(tmp_path, serbench_env):
    root = msp_podcast_tree(tmp_path)
    (root / "Labels" / "labels_consensus.csv").unlink()
    with pytest.raises(DataNotFoundError, match="labels_consensus.csv"):
        msp_podcast.load(root, {})


def test_msp_podcast_audio_nested_one_level(tmp_path, serbench_env):
    root = msp_podcast_tree(tmp_path)
    (root / "Audios" / "Audio").mkdir()
    for p in list((root / "Audios").glob("*.wav")):
        shutil.move(p, root / "Audios" / "Audio" / p.name)
    m = load_corpus("msp-podcast", root).manifest
    assert all("/Audios/Audio/" in p for p in m["path"])


# --- eNTERFACE'05 ------------------------------------------------------------------------


def test_enterface_sibling_wav(tmp_path, serbench_env):
    root = enterface_tree(tmp_path)
    corpus = load_corpus("enterface", root)
    m = corpus.manifest
    assert m.height == 2 * 6 * 2 and set(m["audio_source"]) == {"wav"}
    # subject 2's files are named s12_*: the folders decide speaker and label
    row = m.filter(pl.col("utt_id") == "s2_ha_1").row(0, named=True)
    assert (row["speaker"], row["label"], row["sentence"]) == ("s2", "happiness", 1)
    assert row["path"].endswith("s12_ha_1.wav")
    assert not (serbench_env["SERBENCH_CACHE"] / "video-audio").exists()


def test_enterface_extracts_audio_from_avi_once(tmp_path, serbench_env, monkeypatch):
    root = enterface_tree(tmp_path, subjects=1, with_wav=False, avi=True)
    corpus = load_corpus("enterface", root)
    m = corpus.manifest
    assert m.height == 12 and set(m["audio_source"]) == {"extracted"}
    cache = serbench_env["SERBENCH_CACHE"] / "video-audio"
    assert all(Path(p).parent == cache for p in m["path"])
    # a second load reuses the cache: ffmpeg is not run again
    monkeypatch.setattr(video_audio, "extract", lambda *a: pytest.fail("extracted twice"))
    assert enterface.load(root, {}).manifest["path"].to_list() == m["path"].to_list()


def test_enterface_unextractable_video_is_reported(tmp_path, serbench_env):
    root = enterface_tree(tmp_path, subjects=1, with_wav=False, avi=False)
    with pytest.raises(ManifestError, match=r"cannot extract the audio of .*s1_an_1.avi"):
        enterface.load(root, {})

