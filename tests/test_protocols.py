"""Protocols: disjoint, deterministic, speaker-independent folds; validation carving."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from serbench import hookimpl
from serbench.components import ProtocolSpec
from serbench.errors import ConfigError, SerbenchError, UnknownComponentError
from serbench.plugins import Registry, make_plugin_manager
from serbench.protocols import plugin as builtin_protocols
from serbench.protocols.api import carve_validation, is_speaker_independent, make_folds
from serbench.protocols.base import Fold, split_hash
from serbench.testing.corpora import write_tiny_corpus


def _registry(*extra) -> Registry:
    plugins = [("protocols", builtin_protocols), *extra]
    return Registry(make_plugin_manager(load_entry_points=False, extra_plugins=plugins))


@pytest.fixture(scope="module")
def registry() -> Registry:
    return _registry()


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> pl.DataFrame:
    # six speakers in three sessions: enough for speaker-wise validation carving
    root = tmp_path_factory.mktemp("tiny")
    csv = write_tiny_corpus(root, speakers=6, per_speaker=8, sessions=3)
    return pl.read_csv(csv, infer_schema=False)


def _speakers(df: pl.DataFrame, ids) -> set[str]:
    return set(df.filter(pl.col("utt_id").is_in(list(ids)))["speaker"].to_list())


CASES = [
    ("loso", {}),
    ("loso-speaker", {}),
    ("kfold", {"k": "3"}),
    ("kfold", {"k": 3, "grouped": "speaker"}),
    ("holdout", {}),
    ("speaker-holdout", {}),
    ("speaker-holdout", {"speakers": "spk01,spk04"}),
]


@pytest.mark.parametrize(("protocol", "options"), CASES)
def test_folds_are_disjoint_complete_and_deterministic(manifest, registry, protocol, options):
    folds = make_folds(manifest, protocol, seed=3, options=options, registry=registry)
    ids = set(manifest["utt_id"].to_list())
    for fold in folds:
        fold.check_disjoint()
        assert fold.train and fold.valid and fold.test
        assert set(fold.train) | set(fold.valid) | set(fold.test) <= ids
        assert list(fold.test) == sorted(fold.test)
    again = make_folds(manifest, protocol, seed=3, options=options, registry=registry)
    assert split_hash(again) == split_hash(folds)
    # row order must not matter
    shuffled = manifest.sample(fraction=1.0, shuffle=True, seed=11)
    assert split_hash(make_folds(shuffled, protocol, seed=3, options=options,
                                 registry=registry)) == split_hash(folds)


@pytest.mark.parametrize("protocol", ["loso", "loso-speaker", "kfold"])
def test_cross_validation_tests_every_utterance_once(manifest, registry, protocol):
    folds = make_folds(manifest, protocol, seed=0, registry=registry,
                       options={"k": 4} if protocol == "kfold" else {})
    tested = [u for fold in folds for u in fold.test]
    assert sorted(tested) == sorted(manifest["utt_id"].to_list())


@pytest.mark.parametrize(("protocol", "options"), [
    ("loso", {}), ("loso-speaker", {}), ("kfold", {"k": 3, "grouped": "speaker"}),
    ("speaker-holdout", {}),
])
def test_speaker_independent_protocols(manifest, registry, protocol, options):
    folds = make_folds(manifest, protocol, seed=1, options=options, registry=registry)
    for fold in folds:
        test = _speakers(manifest, fold.test)
        assert not test & _speakers(manifest, fold.train)
        assert not test & _speakers(manifest, fold.valid)
    assert is_speaker_independent(manifest, folds)


def test_loso_speaker_names_folds_after_speakers(manifest, registry):
    folds = make_folds(manifest, "loso-speaker", registry=registry)
    assert [f.name for f in folds] == [f"spk{i:02d}" for i in range(1, 7)]
    for fold in folds:
        assert _speakers(manifest, fold.test) == {fold.name}
        # five training speakers: validation is one whole held-out speaker
        assert len(_speakers(manifest, fold.valid)) == 1
        assert not _speakers(manifest, fold.valid) & _speakers(manifest, fold.train)


def test_leaky_protocols_say_so(manifest, registry):
    (holdout,) = make_folds(manifest, "holdout", seed=0, registry=registry)
    assert "speaker" in holdout.note
    assert not registry.protocol("holdout").speaker_independent
    n = manifest.height
    assert len(holdout.test) == pytest.approx(n / 10, abs=4)
    assert len(holdout.valid) == pytest.approx(n / 10, abs=4)
    kfold = make_folds(manifest, "kfold", options={"k": 3}, registry=registry)
    assert all("not speaker-independent" in f.note for f in kfold)
    assert not is_speaker_independent(manifest, kfold)


def test_seed_changes_random_protocols(manifest, registry):
    for protocol in ("holdout", "kfold"):
        a = make_folds(manifest, protocol, seed=0, registry=registry)
        b = make_folds(manifest, protocol, seed=1, registry=registry)
        assert split_hash(a) != split_hash(b)


def test_kfold_is_label_stratified(manifest, registry):
    folds = make_folds(manifest, "kfold", options={"k": 4}, registry=registry)
    for fold in folds:
        counts = manifest.filter(pl.col("utt_id").is_in(list(fold.test)))["label"].value_counts()
        assert counts["count"].max() - counts["count"].min() <= 1


def test_carve_validation_by_speaker_and_by_label(manifest):
    ids = manifest["utt_id"].to_list()
    train, valid = carve_validation(manifest, ids, seed=0, fraction=0.2)
    assert set(train) | set(valid) == set(ids) and not set(train) & set(valid)
    assert not _speakers(manifest, train) & _speakers(manifest, valid)
    assert carve_validation(manifest, ids, seed=0, fraction=0.2) == (train, valid)
    # two speakers only: stratified by label, every label in validation
    two = manifest.filter(pl.col("speaker").is_in(["spk01", "spk02"]))
    train2, valid2 = carve_validation(two, two["utt_id"].to_list(), seed=0, fraction=0.25)
    assert set(two.filter(pl.col("utt_id").is_in(valid2))["label"]) == set(two["label"])
    assert len(valid2) == 4 and len(train2) == two.height - 4
    # by_speaker=False forces label stratification even with many speakers
    _, valid3 = carve_validation(manifest, ids, seed=0, by_speaker=False)
    assert len(_speakers(manifest, valid3)) > 1


def test_loso_requires_session_column(manifest, registry):
    with pytest.raises(ConfigError, match="'session' column"):
        make_folds(manifest.drop("session"), "loso", registry=registry)


def test_loso_drops_training_utterances_of_test_speakers(manifest, registry):
    # spk01 also speaks in Ses02: kept out of training when Ses01 is tested
    moved = manifest.with_columns(
        pl.when((pl.col("speaker") == "spk01") & (pl.col("utt_id").str.ends_with("7")))
        .then(pl.lit("Ses02")).otherwise(pl.col("session")).alias("session")
    )
    folds = {f.name: f for f in make_folds(moved, "loso", registry=registry)}
    assert "left out" in folds["Ses01"].note
    assert "spk01" not in _speakers(moved, folds["Ses01"].train + folds["Ses01"].valid)


def test_speaker_holdout_sampling_and_names(manifest, registry):
    (fold,) = make_folds(manifest, "speaker-holdout", seed=5, registry=registry)
    genders = manifest.filter(pl.col("utt_id").is_in(list(fold.test)))["gender"].unique()
    assert sorted(genders.to_list()) == ["F", "M"]
    assert fold.name == "+".join(sorted(_speakers(manifest, fold.test)))
    with pytest.raises(ConfigError, match="did you mean 'spk01'"):
        make_folds(manifest, "speaker-holdout", options={"speakers": "spk1"}, registry=registry)
    no_gender = manifest.drop("gender")
    (fold,) = make_folds(no_gender, "speaker-holdout", options={"n": "3"}, registry=registry)
    assert len(_speakers(no_gender, fold.test)) == 3


def test_official_split(manifest, registry):
    split = (
        pl.when(pl.col("speaker").is_in(["spk01", "spk02"])).then(pl.lit("Test"))
        .when(pl.col("speaker") == "spk03").then(pl.lit("valid"))
        .otherwise(pl.lit("train"))
    )
    df = manifest.with_columns(split.alias("split"))
    (fold,) = make_folds(df, "official", registry=registry)
    assert _speakers(df, fold.test) == {"spk01", "spk02"}
    assert _speakers(df, fold.valid) == {"spk03"}
    # without valid rows, validation is carved from train
    (carved,) = make_folds(df.with_columns(pl.col("split").replace("valid", "train")),
                           "official", registry=registry)
    assert carved.valid and set(carved.valid) < set(df["utt_id"])
    with pytest.raises(ConfigError, match="'split' column"):
        make_folds(manifest, "official", registry=registry)
    odd = df.with_columns(pl.col("split").replace("valid", "test2"))
    with pytest.raises(ConfigError, match="test2"):
        make_folds(odd, "official", registry=registry)
    (excluded,) = make_folds(odd, "official", options={"exclude": "test2"}, registry=registry)
    assert not _speakers(df, excluded.test + excluded.train + excluded.valid) & {"spk03"}


def test_bad_options_are_reported(manifest, registry):
    with pytest.raises(ConfigError, match="unknown option.*'kk'.*Known options"):
        make_folds(manifest, "kfold", options={"kk": 3}, registry=registry)
    with pytest.raises(ConfigError, match="k=.x. must be an integer"):
        make_folds(manifest, "kfold", options={"k": "x"}, registry=registry)
    with pytest.raises(ConfigError, match="at least 9 distinct 'speaker'"):
        make_folds(manifest, "kfold", options={"k": 9, "grouped": "speaker"}, registry=registry)
    with pytest.raises(ConfigError, match="valid_fraction"):
        make_folds(manifest, "loso-speaker", options={"valid_fraction": 2}, registry=registry)


def test_unknown_protocol_did_you_mean(manifest, registry):
    with pytest.raises(UnknownComponentError, match="Did you mean 'loso-speaker'"):
        make_folds(manifest, "loso_speaker", registry=registry)


def _bad_protocol(make):
    class Plugin:
        @hookimpl
        def register_protocols(self, register):
            register(ProtocolSpec(name="bad", version=1, description="broken on purpose",
                                  split=make))
    return Plugin()


def test_fold_with_empty_test_is_an_error_naming_the_fold(manifest):
    ids = tuple(sorted(manifest["utt_id"].to_list()))

    def split(df, *, seed, options):
        return [Fold("ghost", ids[2:], ids[:2], ())]

    registry = _registry(("bad", _bad_protocol(split)))
    with pytest.raises(ConfigError, match="fold 'ghost' has no test speakers"):
        make_folds(manifest, "bad", registry=registry)


def test_overlapping_or_leaky_folds_are_rejected(manifest):
    ids = tuple(sorted(manifest["utt_id"].to_list()))

    def overlapping(df, *, seed, options):
        return [Fold("f1", ids[:30], ids[30:35], ids[29:])]

    with pytest.raises(SerbenchError, match="fold 'f1': train and test share 1"):
        make_folds(manifest, "bad", registry=_registry(("bad", _bad_protocol(overlapping))))

    def leaky(df, *, seed, options):  # disjoint ids, but speaker spk01 on both sides
        return [Fold("f1", ids[1:30], ids[30:35], ids[:1])]

    with pytest.raises(SerbenchError, match=r"speaker\(s\) \['spk01'\]"):
        make_folds(manifest, "bad", registry=_registry(("bad", _bad_protocol(leaky))))


def test_manifest_from_real_file_layout(tmp_path: Path, registry):
    # the defaults of the testing corpus: 2 sessions of 2 speakers, one F and one M each
    csv = write_tiny_corpus(tmp_path)
    df = pl.read_csv(csv, infer_schema=False)
    folds = make_folds(df, "loso", registry=registry)
    assert [f.name for f in folds] == ["Ses01", "Ses02"]
    for fold in folds:
        genders = df.filter(pl.col("utt_id").is_in(list(fold.test)))["gender"].unique()
        assert sorted(genders.to_list()) == ["F", "M"]
