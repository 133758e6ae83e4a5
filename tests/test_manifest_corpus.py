"""The built-in ``manifest`` corpus and the corpus API (load, label maps, fingerprint)."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from serbench import hookimpl
from serbench.components import CorpusSpec
from serbench.corpora import plugin as builtin_corpora
from serbench.corpora.api import corpus_fingerprint, experiment_manifest, load_corpus
from serbench.errors import (
    ConfigError,
    DataNotFoundError,
    ManifestError,
    UnknownComponentError,
)
from serbench.plugins import Registry, make_plugin_manager
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    for var in ("SERBENCH_DATA", "SERBENCH_CACHE", "SERBENCH_RUNS"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry(make_plugin_manager(load_entry_points=False,
                                        extra_plugins=[("corpora", builtin_corpora)]))


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_tiny_corpus(tmp_path / "tiny", speakers=3, per_speaker=4)


def _rewrite(csv_path: Path, edit) -> None:
    rows = list(csv.DictReader(csv_path.open()))
    fields = list(rows[0])
    rows, fields = edit(rows, fields)
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def test_loads_tiny_csv_with_relative_paths(tiny, registry):
    corpus = load_corpus("manifest", tiny, registry=registry)
    df = corpus.manifest
    assert df.height == 12 and corpus.root == tiny.parent.resolve()
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in df["path"])
    assert df["turn"].dtype == pl.Int64 and df["speaker"].dtype == pl.String
    assert corpus.default_protocol == "loso-speaker" and corpus.default_label_map == "all"
    assert corpus.label_maps["all"].classes == ("angry", "happy", "neutral", "sad")
    exp = experiment_manifest(corpus)
    assert exp["label"].to_list() == exp["raw_label"].to_list()


def test_folder_tsv_parquet_and_absolute_paths(tiny, tmp_path, registry):
    # a folder holding manifest.csv
    assert load_corpus("manifest", tiny.parent, registry=registry).manifest.height == 12
    df = load_corpus("manifest", tiny, registry=registry).manifest
    # parquet elsewhere with absolute paths; ids like '007' stay text
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    df.with_columns(pl.lit("007").alias("speaker")).write_parquet(elsewhere / "m.parquet")
    loaded = load_corpus("manifest", elsewhere / "m.parquet", registry=registry).manifest
    assert loaded["path"].to_list() == df["path"].to_list()
    assert set(loaded["speaker"]) == {"007"}
    df.write_csv(elsewhere / "m.tsv", separator="\t")
    assert load_corpus("manifest", elsewhere / "m.tsv", registry=registry).manifest.height == 12


def test_missing_data_is_a_clear_error(tmp_path, registry):
    with pytest.raises(DataNotFoundError, match="does not exist.*--data"):
        load_corpus("manifest", tmp_path / "nope.csv", registry=registry)
    with pytest.raises(DataNotFoundError, match="utt_id, path, speaker, label"):
        load_corpus("manifest", None, registry=registry)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="holds no manifest.csv"):
        load_corpus("manifest", tmp_path / "empty", registry=registry)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="suffix .txt"):
        load_corpus("manifest", tmp_path / "notes.txt", registry=registry)


def test_bad_columns_and_values_name_file_row_and_column(tiny, registry):
    _rewrite(tiny, lambda rows, fields: (
        [{**r, "turn": "x" if i == 1 else r["turn"], "start": "soon" if i == 3 else ""}
         for i, r in enumerate(rows)],
        [*fields, "start"],
    ))
    with pytest.raises(ManifestError) as info:
        load_corpus("manifest", tiny, registry=registry)
    text = str(info.value)
    assert str(tiny) in text
    assert "row 2" in text and "column 'turn' value 'x' is not an integer" in text
    assert "row 4" in text and "column 'start' value 'soon' is not a number" in text
    _rewrite(tiny, lambda rows, fields: (
        [{k: v for k, v in r.items() if k != "speaker"} for r in rows],
        [f for f in fields if f != "speaker"],
    ))
    with pytest.raises(ManifestError, match=r"missing required column\(s\) \['speaker'\]"):
        load_corpus("manifest", tiny, registry=registry)


def test_user_label_maps(tiny, registry):
    options = {"map": "angry:emotional,happy:emotional,neutral:neutral",
               "map.binary": "sad:sad,neutral:other"}
    corpus = load_corpus("manifest", tiny, options, registry=registry)
    assert sorted(corpus.label_maps) == ["all", "binary", "custom"]
    custom = experiment_manifest(corpus, "custom")
    assert corpus.label_maps["custom"].classes == ("emotional", "neutral")
    assert set(custom["label"]) == {"emotional", "neutral"}
    assert "sad" not in set(custom["raw_label"])
    assert set(experiment_manifest(corpus, "binary")["label"]) == {"sad", "other"}
    with pytest.raises(UnknownComponentError, match="Did you mean 'custom'"):
        experiment_manifest(corpus, "custon")
    with pytest.raises(ConfigError, match="'angyr'.*Did you mean 'angry'"):
        load_corpus("manifest", tiny, {"map": "angyr:a,sad:s"}, registry=registry)
    with pytest.raises(ConfigError, match="is not 'raw:class'"):
        load_corpus("manifest", tiny, {"map": "angry"}, registry=registry)
    with pytest.raises(ConfigError, match="unknown option"):
        load_corpus("manifest", tiny, {"mapp": "angry:a"}, registry=registry)
    assert load_corpus("manifest", tiny, {"protocol": "loso"},
                       registry=registry).default_protocol == "loso"


def test_label_map_leaving_a_class_empty(tiny, registry):
    corpus = load_corpus("manifest", tiny, registry=registry)
    # the 'all' map was built with 'angry'; a manifest without it leaves that class empty
    corpus.manifest = corpus.manifest.filter(pl.col("label") != "angry")
    with pytest.raises(ConfigError, match=r"leaves class\(es\) \['angry'\]"):
        experiment_manifest(corpus)


def test_fingerprint_is_stable_and_content_sensitive(tiny, registry):
    first = corpus_fingerprint(load_corpus("manifest", tiny, registry=registry))
    assert first == corpus_fingerprint(load_corpus("manifest", tiny, registry=registry))
    assert len(first) == 16
    _rewrite(tiny, lambda rows, fields: (
        [{**r, "label": "sad" if i == 0 else r["label"]} for i, r in enumerate(rows)], fields
    ))
    assert corpus_fingerprint(load_corpus("manifest", tiny, registry=registry)) != first


def test_unknown_corpus_and_loader_errors(tiny):
    class Plugin:
        @hookimpl
        def register_corpora(self, register):
            def load(data, options):
                raise FileNotFoundError("/nowhere/Session1")

            register(CorpusSpec(name="lost", version=1, description="never on disk",
                                loader=load, label_maps=("all",), default_label_map="all",
                                default_protocol="loso", obtain="ask the corpus owners"))
            register(CorpusSpec(name="odd", version=1, description="returns a dict",
                                loader=lambda data, options: {}, label_maps=("all",),
                                default_label_map="all", default_protocol="loso"))

    registry = Registry(make_plugin_manager(
        load_entry_points=False, extra_plugins=[("corpora", builtin_corpora), ("x", Plugin())]
    ))
    with pytest.raises(UnknownComponentError, match="Did you mean 'manifest'"):
        load_corpus("manifests", tiny, registry=registry)
    with pytest.raises(DataNotFoundError, match="Session1.*ask the corpus owners"):
        load_corpus("lost", registry=registry)
    with pytest.raises(Exception, match="not a serbench.corpora.base.Corpus"):
        load_corpus("odd", registry=registry)


def test_tiny_corpus_layout(tmp_path):
    csv_path = write_tiny_corpus(tmp_path, speakers=4, per_speaker=8, sessions=2, seed=1)
    df = pl.read_csv(csv_path, infer_schema=False)
    assert df.columns == ["utt_id", "path", "speaker", "label", "gender", "session", "dialog",
                          "turn", "transcript"]
    assert df.height == 32 and df["utt_id"].n_unique() == 32
    counts = df.group_by("speaker", "label").len()["len"]
    assert set(counts.to_list()) == {2}  # balanced within each speaker
    assert df.group_by("speaker").agg(pl.col("session").n_unique())["session"].max() == 1
    # dialogues alternate between the session's speakers
    first = df.filter(pl.col("dialog") == df["dialog"][0]).sort(pl.col("turn").cast(int))
    assert first["speaker"].to_list()[:2] == ["spk01", "spk02"]
    # same seed, same audio
    again = write_tiny_corpus(tmp_path / "again", speakers=4, per_speaker=8, seed=1)
    assert (tmp_path / df["path"][0]).read_bytes() == (again.parent / df["path"][0]).read_bytes()
