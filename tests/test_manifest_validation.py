"""Manifest validation reports every bad row at once, through load_corpus too."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
import soundfile

from serbench import hookimpl
from serbench.components import CorpusSpec, LabelMap
from serbench.corpora import plugin as builtin_corpora
from serbench.corpora.api import load_corpus
from serbench.corpora.base import Corpus
from serbench.errors import ManifestError
from serbench.manifest import validate_manifest
from serbench.plugins import Registry, make_plugin_manager
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    for var in ("SERBENCH_DATA", "SERBENCH_CACHE", "SERBENCH_RUNS"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))


def _break_corpus(root: Path) -> Path:
    """A tiny corpus with one row of each kind of problem."""
    csv_path = write_tiny_corpus(root, speakers=2, per_speaker=4)
    rows = list(csv.DictReader(csv_path.open()))
    (root / rows[0]["path"]).unlink()  # missing
    (root / rows[1]["path"]).write_bytes(b"")  # empty
    (root / rows[2]["path"]).write_bytes(b"this is not audio at all")  # unreadable
    soundfile.write(root / "silent.wav", [], 16000)  # a valid header with no samples
    rows[3]["path"] = "silent.wav"
    rows[4]["label"] = "bored"  # unknown to the corpus's label maps
    rows[6]["utt_id"] = rows[5]["utt_id"]  # duplicate
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return csv_path


def test_validate_manifest_reports_every_bad_row(tmp_path):
    csv_path = _break_corpus(tmp_path)
    df = pl.read_csv(csv_path, infer_schema=False).with_columns(
        (pl.lit(str(tmp_path)) + "/" + pl.col("path")).alias("path")
    )
    with pytest.raises(ManifestError) as info:
        validate_manifest(df, "tiny", known_labels=["angry", "happy", "neutral", "sad"])
    problems = info.value.problems
    text = str(info.value)
    assert len(problems) == 6, problems
    assert "row 1" in problems[0] and "missing audio file" in problems[0]
    assert "row 2" in problems[1] and "empty" in problems[1]
    assert "row 3" in problems[2] and "unreadable" in problems[2]
    assert "row 4" in problems[3] and "no samples" in problems[3]
    assert "row 5" in problems[4] and "unknown label 'bored'" in problems[4]
    assert "row 7" in problems[5] and "duplicate utt_id" in problems[5]
    assert text.startswith("tiny: 6 problem(s)")


def test_load_corpus_validates_against_the_label_maps(tmp_path):
    csv_path = _break_corpus(tmp_path)

    def load(data, options):
        from serbench.corpora.manifest_file import find_manifest_file, read_manifest_file

        df = read_manifest_file(find_manifest_file(data))
        four = LabelMap("4class", {c: c for c in ("angry", "happy", "neutral", "sad")},
                        ("angry", "happy", "neutral", "sad"))
        return Corpus("fixed", df, {"4class": four}, "4class", "loso-speaker", root=data)

    class Plugin:
        @hookimpl
        def register_corpora(self, register):
            register(CorpusSpec(name="fixed", version=1, description="fixed labels",
                                loader=load, label_maps=("4class",),
                                default_label_map="4class", default_protocol="loso-speaker"))

    registry = Registry(make_plugin_manager(load_entry_points=False,
                                            extra_plugins=[("fixed", Plugin())]))
    with pytest.raises(ManifestError) as info:
        load_corpus("fixed", csv_path, registry=registry)
    assert len(info.value.problems) == 6
    assert "unknown label 'bored'" in str(info.value)
    # validate=False hands the corpus over unchecked (e.g. to repair it)
    assert load_corpus("fixed", csv_path, registry=registry, validate=False).manifest.height == 8


def test_manifest_corpus_reports_audio_problems_before_anything_runs(tmp_path):
    csv_path = _break_corpus(tmp_path)
    registry = Registry(make_plugin_manager(load_entry_points=False,
                                            extra_plugins=[("corpora", builtin_corpora)]))
    with pytest.raises(ManifestError) as info:
        load_corpus("manifest", csv_path, registry=registry)
    # 'all' knows every label, so 'bored' is a class of its own, not a problem
    assert len(info.value.problems) == 5
    assert str(tmp_path) in str(info.value)
