"""Manifest rows that would shift scores without a word: a mistyped label (an error naming
its rows, or rows left out on request and counted), and a speaker with one utterance
(its own fold, warned about in the output and in the run record)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.corpora.api import load_corpus
from serbench.corpora.manifest_labels import suspected_typos
from serbench.errors import ManifestError
from serbench.protocols._common import MIN_TEST_UTTERANCES, small_fold_warnings
from serbench.protocols.base import Fold
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


def _edit(path: Path, change_row: int, label: str, extra_speaker: str | None = None) -> str:
    """Set data row ``change_row``'s label (1-based, as errors count); optionally add a
    speaker with one utterance (a copy of row 1's audio). Returns the changed utt_id."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[change_row - 1]["label"] = label
    if extra_speaker:
        rows.append({**rows[0], "utt_id": f"{extra_speaker}_000", "speaker": extra_speaker})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows[change_row - 1]["utt_id"]


def _run(csv_path: Path, *extra: str):
    return CliRunner().invoke(cli, ["run", "--model", "svm", "--corpus", "manifest", "--data",
                                    str(csv_path), "--protocol", "loso-speaker", "-q", *extra])


def test_a_mistyped_label_is_an_error_naming_its_rows(env: Path) -> None:
    path = write_tiny_corpus(env / "tiny", speakers=3, per_speaker=8)
    utt = _edit(path, 5, "angyr")
    result = _run(path)
    assert isinstance(result.exception, ManifestError), result.output
    message = str(result.exception)
    assert f"label 'angyr' in 1 row(s) (row 5 (utt_id {utt!r})) looks like a typo of " \
           "'angry'" in message
    assert "drop_unknown_labels=true" in message and "labels=angry,angyr," in message
    assert not (env / "runs").exists() or not any((env / "runs").iterdir())  # nothing ran


def test_declared_labels_and_label_maps_name_rows_outside_them(env: Path) -> None:
    path = write_tiny_corpus(env / "tiny", speakers=2, per_speaker=4)
    with pytest.raises(ManifestError, match=r"label 'sad' in 2 row\(s\) .* is not among the "
                                            r"declared labels \['angry', 'happy', 'neutral'\]"):
        load_corpus("manifest", path, {"labels": "angry,happy,neutral"})
    with pytest.raises(ManifestError, match=r"(?s)label 'neutral' in 2 row\(s\) .* is in no "
                                            r"label map.*add the label to a map"):
        load_corpus("manifest", path, {"map": "angry:a,happy:h,sad:s"})
    # declared labels: a map may leave a declared label out (a deliberate choice)
    corpus = load_corpus("manifest", path, {"map": "angry:a,happy:h,sad:s",
                                            "labels": "angry,happy,neutral,sad"})
    assert corpus.manifest.height == 8 and corpus.warnings == []
    dropped = load_corpus("manifest", path, {"map": "angry:a,happy:h,sad:s",
                                             "drop_unknown_labels": "true"})
    assert dropped.manifest.height == 6 and "2 utterance(s) left out" in dropped.warnings[0]


def test_suspected_typos_flag_the_rarer_of_two_similar_labels() -> None:
    counts = {"angry": 120, "angyr": 1, "Angry ": 3, "sad": 50, "mad": 40, "neutral": 90}
    assert suspected_typos(counts) == {"angyr": "angry", "Angry ": "angry"}
    assert suspected_typos({"happy": 10, "happiness": 1, "sad": 10}) == {}


def test_dropped_labels_and_a_one_utterance_speaker_are_warned_and_recorded(env: Path) -> None:
    path = write_tiny_corpus(env / "tiny", speakers=3, per_speaker=12)
    n_rows = pl.read_csv(path).height
    utt = _edit(path, 5, "angyr", extra_speaker="spk09")
    result = _run(path, "--corpus-option", "drop_unknown_labels=true")
    assert result.exit_code == 0, result.output + repr(result.exception)
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "warning: 1 utterance(s) left out of corpus 'manifest'" in output
    assert "warning: fold 'spk09' tests on only 1 utterance(s) (speakers: spk09 (1))" in output
    (folder,) = [p for p in (env / "runs").iterdir() if p.is_dir()]
    record = json.loads((folder / "record.json").read_text())
    assert record["corpus"]["n_utterances"] == n_rows  # +1 speaker row, -1 dropped row
    dropped, *others = record["warnings"]
    assert f"label 'angyr' in 1 row(s) (row 5 (utt_id {utt!r}))" in dropped
    assert any(w.startswith("fold 'spk09' tests on only 1 utterance(s)") for w in others)
    assert not any("fold 'spk01'" in w for w in others)  # 12 utterances, every class


def test_small_or_classless_test_folds_are_warned_about() -> None:
    ids = [f"u{i:02d}" for i in range(24)]
    manifest = pl.DataFrame({"utt_id": ids, "speaker": ["a"] * 12 + ["b"] * 11 + ["c"],
                             "label": ["x", "y"] * 6 + ["x"] * 11 + ["y"]})
    folds = [Fold("a", tuple(ids[12:]), (), tuple(ids[:12])),
             Fold("b", tuple(ids[:12]), (), tuple(ids[12:23])),
             Fold("c", tuple(ids[:12]), (), tuple(ids[23:]))]
    warnings = small_fold_warnings(manifest, folds, ["x", "y"])
    assert warnings[0] == "fold 'b' has no test utterance of class(es) ['y']; its UA averages " \
                          "over the other classes only."
    assert warnings[1].startswith("fold 'c' tests on only 1 utterance(s) (speakers: c (1))")
    assert len(warnings) == 3 and "class(es) ['x']" in warnings[2]  # c lacks x as well
    assert MIN_TEST_UTTERANCES == 10


def test_the_record_warns_of_utterances_the_feature_extractor_excluded() -> None:
    from types import SimpleNamespace

    from serbench.run.record import run_warnings

    res = SimpleNamespace(warnings=["fold 'x' tests on only 1 utterance(s) ..."])
    excluded = {"u1": "unreadable audio", "u2": "never finite"}
    assert run_warnings(res, {"excluded": excluded}) == [
        res.warnings[0],
        "2 utterance(s) excluded by the feature extractor and left out of every fold "
        "(unreadable audio or no finite features)."]
    assert run_warnings(res, {}) == res.warnings
