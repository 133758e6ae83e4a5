"""Leaderboard schema migrations: a pre-release (schema 0) layout stays readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serbench.errors import SchemaError
from serbench.leaderboard import schema
from serbench.leaderboard.migrations import migrate
from serbench.leaderboard.store import Leaderboard

BENCH = "synthetic-4class-loso"


def v0_entry(run: str = "svm-synthetic-loso-s0-00000000", seed: int = 0,
             ua: float = 0.5) -> dict:
    """The flat entry layout of serbench's pre-release leaderboards (no schema_version)."""
    return {
        "run": run, "benchmark": BENCH, "model": "svm", "model_version": 2, "variant": None,
        "features": "egemaps", "hparams": {"C": 1.0}, "seed": seed, "corpus": "synthetic",
        "label_map": "4class", "classes": ["angry", "happy", "neutral", "sad"],
        "fingerprint": "f" * 16, "protocol": "loso", "split_hash": "a" * 16,
        "fold_ua": {"s1": ua - 0.05, "s2": ua + 0.05, "s3": ua}, "ua": ua, "ua_std": 0.04,
        "ua_pooled": ua - 0.01, "wa": ua + 0.02, "latency_ms": 0.5, "train_s_per_epoch": 1.5,
        "params": 420, "device": "cpu", "date": "2026-01-01T00:00:00+00:00",
    }


def test_v0_entry_migrates_to_a_valid_v1_entry() -> None:
    old = v0_entry()
    new = migrate(old, "entry", "old.json")
    schema.validate(new, schema.ENTRY_SCHEMA, "old.json", what="entry")
    assert "schema_version" not in old  # the input is not modified
    assert new["schema_version"] == 1 and new["run_id"] == old["run"]
    assert new["model"] == {**new["model"], "name": "svm", "version": 2,
                            "hyperparameters": {"C": 1.0}}
    assert [f["metrics"]["ua"] for f in new["folds"]] == [0.45, 0.55, 0.5]
    assert new["aggregate"]["pooled"]["ua"] == 0.49 and new["aggregate"]["std"]["ua"] == 0.04
    assert new["timing"]["throughput_utt_per_s"] == 2000.0 and new["timing"]["clock"] is None
    assert migrate(new, "entry", "new.json") == new  # current files pass through


def test_the_store_reads_a_schema_0_leaderboard(tmp_path: Path) -> None:
    board = Leaderboard(tmp_path, BENCH)
    board.entries_dir.mkdir(parents=True)
    board.published_dir.mkdir()
    board.info_path.write_text(json.dumps({"name": BENCH, "corpus": "synthetic",
                                           "label_map": "4class", "protocol": "loso",
                                           "fingerprint": "f" * 16}))
    entries = [v0_entry(f"svm-synthetic-loso-s{s}-00000000", s, 0.5 + s / 100) for s in range(2)]
    for e in entries:
        (board.entries_dir / f"{e['run']}.json").write_text(json.dumps(e))
    (board.published_dir / "v1.json").write_text(json.dumps(
        {"benchmark": BENCH, "version": 1, "date": "2026-01-02", "entries": entries}))
    assert board.info()["metrics"] == ["ua", "wa", "macro_f1"]
    current = board.current()
    assert [g["seeds"] for g in current["summary"]["groups"]] == [[0, 1]]
    snap = board.snapshot(1)
    assert snap["published"] == "2026-01-02" and len(snap["entries"]) == 2
    assert snap["summary"]["groups"][0]["scores"]["ua"]["mean"] == pytest.approx(0.505)
    assert board.publish()[0] == 2  # an old leaderboard can be published anew


def test_a_newer_schema_version_is_refused_with_file_and_field(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="upgrade serbench") as err:
        migrate({"schema_version": 99}, "entry", str(tmp_path / "e.json"))
    assert err.value.field == "schema_version" and err.value.path == str(tmp_path / "e.json")
    with pytest.raises(SchemaError, match="not a schema version"):
        migrate({"schema_version": "1"}, "entry", "e.json")


def test_a_broken_old_file_names_the_missing_field() -> None:
    broken = v0_entry()
    del broken["fingerprint"]
    with pytest.raises(SchemaError, match="cannot migrate") as err:
        migrate(broken, "entry", "e.json")
    assert err.value.field == "fingerprint"
