"""Retiring leaderboard rows: moved with when and why, never lost, named when published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _leaderboard_records import write_run
from click.testing import CliRunner

from serbench.cli import cli
from serbench.errors import ConfigError
from serbench.leaderboard.store import Leaderboard, add_runs

BENCH = "synthetic-4class-loso-speaker"


@pytest.fixture()
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Leaderboard, list[Path]]:
    for name in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{name}", str(tmp_path / name.lower()))
    runs = [write_run(tmp_path / "runs", model="bilstm_att", seed=0),
            write_run(tmp_path / "runs", model="svm", seed=0, skill=0.4),
            write_run(tmp_path / "runs", model="svm", seed=1, skill=0.4)]
    add_runs(runs, tmp_path / "lb")
    return Leaderboard(tmp_path / "lb", BENCH), runs


def test_retired_rows_leave_the_board_and_the_next_note_names_them(board) -> None:
    lb, runs = board
    lb.publish(note="first")
    v1 = lb.snapshot(1)
    old, kept = runs[0].name, {runs[1].name, runs[2].name}
    entry_before = json.loads((lb.entries_dir / f"{old}.json").read_text())
    (path,) = lb.retire([old], "bilstm_att v1 had a masking bug")
    assert not (lb.entries_dir / f"{old}.json").exists()
    wrapper = json.loads(path.read_text())
    assert wrapper["entry"] == entry_before  # kept unchanged, not deleted
    assert wrapper["reason"] == "bilstm_att v1 had a masking bug"
    assert wrapper["after_version"] == 1
    assert {e["run_id"] for e in lb.current()["entries"]} == kept
    version, _ = lb.publish(note="second.")  # one full stop between the two sentences
    v2 = lb.snapshot(version)
    assert {e["run_id"] for e in v2["entries"]} == kept
    assert v2["note"] == f"second. retired since v1: {old} (bilstm_att v1 had a masking bug)"
    assert lb.snapshot(1) == v1  # published versions keep the row
    v3 = lb.publish()[0]
    assert lb.snapshot(v3)["note"] is None  # said once, in the version it left


def test_a_retired_run_is_not_added_back_without_replace(board) -> None:
    lb, runs = board
    lb.retire([runs[1].name], "superseded by the 3-seed campaign")
    assert lb.publish()[0] == 1
    assert lb.snapshot(1)["note"] == (f"retired before the first version: {runs[1].name} "
                                      "(superseded by the 3-seed campaign)")
    again = add_runs([runs[1]], lb.root)  # e.g. a sweep re-adding its finished runs
    assert [r.status for r in again] == ["retired"]
    assert runs[1].name not in {e["run_id"] for e in lb.entries()}
    back = add_runs([runs[1]], lb.root, replace=True)
    assert [r.status for r in back] == ["added"]
    assert runs[1].name in {e["run_id"] for e in lb.entries()}
    assert not (lb.dir / "retired" / f"{runs[1].name}.json").exists()


def test_a_typo_retires_nothing_and_a_reason_is_required(board) -> None:
    lb, runs = board
    with pytest.raises(ConfigError, match="no entry for run id\\(s\\) nope .* nothing was "
                                          "retired"):
        lb.retire([runs[0].name, "nope"], "why")
    assert len(lb.entries()) == 3
    with pytest.raises(ConfigError, match="--reason is required"):
        lb.retire([runs[0].name], "  ")


def test_cli_retire_add_and_list(board) -> None:
    lb, runs = board
    root = str(lb.root)
    out = CliRunner().invoke(cli, ["leaderboard", "retire", BENCH, runs[0].name,
                                   "--root", root, "--reason", "old protocol"])
    assert out.exit_code == 0, out.output
    assert f"{runs[0].name}: retired" in out.output
    listed = CliRunner().invoke(cli, ["leaderboard", "list", "--root", root])
    assert f"{BENCH}: 2 entries, unpublished, 1 retired" in listed.output
    added = CliRunner().invoke(cli, ["leaderboard", "add", str(runs[0]), "--root", root])
    assert added.exit_code == 0 and "not added back (--replace brings it back)" in added.output
    missing = CliRunner().invoke(cli, ["leaderboard", "retire", BENCH, runs[1].name,
                                       "--root", root])
    assert missing.exit_code != 0 and "--reason" in missing.output
