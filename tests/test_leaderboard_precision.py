"""A run's precision (--precision) travels from its record into the leaderboard entry and
the rendered clock column; entries written before the field existed stay readable."""

from __future__ import annotations

import json
from pathlib import Path

from _leaderboard_records import write_run

from serbench.leaderboard.render_markdown import render_markdown
from serbench.leaderboard.store import Leaderboard, add_runs

BENCH = "synthetic-4class-loso-speaker"


def _with_precision(folder: Path, precision: str | None) -> Path:
    path = folder / "record.json"
    record = json.loads(path.read_text())
    if precision is not None:
        record["timing"]["precision"] = precision
    path.write_text(json.dumps(record))
    return folder


def test_precision_reaches_the_entry_and_the_clock_column(tmp_path, monkeypatch) -> None:
    for name in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{name}", str(tmp_path / name.lower()))
    runs = tmp_path / "runs"
    bf16 = _with_precision(write_run(runs, model="bilstm_att", seed=0, clock="cuda_events",
                                     device_name="NVIDIA H200"), "bf16")
    old = _with_precision(write_run(runs, model="svm", seed=0, skill=0.3), None)
    add_runs([bf16, old], tmp_path / "lb")
    board = Leaderboard(tmp_path / "lb", BENCH)
    by_model = {e["model"]["name"]: e for e in board.entries()}
    assert by_model["bilstm_att"]["timing"]["precision"] == "bf16"
    assert by_model["svm"]["timing"]["precision"] is None  # an older record: no field
    rows = [line for line in render_markdown(board.current()).splitlines()
            if line.startswith("| ")]
    assert any("bilstm_att" in r and "CUDA events (bf16)" in r for r in rows)
    assert any("svm" in r and "CPU clock" in r and "(" not in r.split("|")[-2] for r in rows)
