"""Leaderboard store: add, no-op re-add, concurrent adds, crash-safe writes, publishing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _leaderboard_records import make_record, write_run

from serbench.errors import ConfigError, SchemaError
from serbench.leaderboard.atomic import create_exclusive, write_atomic
from serbench.leaderboard.store import Leaderboard, add_runs, list_benchmarks

BENCH = "synthetic-4class-loso-speaker"


@pytest.fixture()
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{name}", str(tmp_path / name.lower()))
    return tmp_path / "runs"


def test_add_creates_benchmark_and_one_file_per_entry(runs: Path, tmp_path: Path) -> None:
    a = write_run(runs, model="bilstm_att", seed=0)
    b = write_run(runs, model="svm", seed=0, skill=0.4)
    results = add_runs([a, b / "record.json"], tmp_path / "lb")
    assert [r.status for r in results] == ["added", "added"]
    board = Leaderboard(tmp_path / "lb", BENCH)
    info = board.info()
    assert info["corpus_fingerprint"] == "f" * 16 and info["metrics"][0] == "ua"
    files = sorted(p.name for p in board.entries_dir.iterdir())
    assert files == sorted(f"{r.run_id}.json" for r in results)
    text = results[0].path.read_text()
    assert text.endswith("\n") and '\n  "aggregate": {' in text  # sorted keys, indent 2
    assert list_benchmarks(tmp_path / "lb") == [BENCH]
    entry = board.entries()[0]
    assert entry["counts"]["clusters"]["s1"]["n"] == [6, 6, 6, 6]


def test_re_adding_the_same_run_is_a_no_op(runs: Path, tmp_path: Path) -> None:
    run = write_run(runs, seed=0)
    first = add_runs([run], tmp_path / "lb")[0]
    before = first.path.read_bytes()
    again = add_runs([run, run / "record.json"], tmp_path / "lb")
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    assert first.path.read_bytes() == before
    assert len(Leaderboard(tmp_path / "lb", BENCH).entries()) == 1


def test_same_run_id_with_a_different_record_needs_replace(runs: Path, tmp_path: Path) -> None:
    run = write_run(runs, seed=0)
    add_runs([run], tmp_path / "lb")
    record = json.loads((run / "record.json").read_text())
    record["aggregate"]["mean"]["ua"] = 0.99
    (run / "record.json").write_text(json.dumps(record))
    with pytest.raises(ConfigError, match="--replace"):
        add_runs([run], tmp_path / "lb")
    assert add_runs([run], tmp_path / "lb", replace=True)[0].status == "added"
    assert Leaderboard(tmp_path / "lb", BENCH).entries()[0]["aggregate"]["mean"]["ua"] == 0.99


def test_add_accepts_a_run_id_under_serbench_runs(runs: Path, tmp_path: Path) -> None:
    run = write_run(runs, seed=3)
    assert add_runs([run.name], tmp_path / "lb")[0].run_id == run.name
    with pytest.raises(ConfigError, match="no run record"):
        add_runs([str(tmp_path / "missing")], tmp_path / "lb")


_ADDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from serbench.leaderboard.store import add_runs
    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.005)
    for run in sys.argv[3:]:
        add_runs([run], Path(sys.argv[2]))
""")


def test_two_processes_adding_at_once_both_land(runs: Path, tmp_path: Path) -> None:
    batches = [[write_run(runs, model=m, seed=s) for s in range(4)] for m in ("svm", "rlc")]
    go, root = tmp_path / "go", tmp_path / "lb"
    procs = [subprocess.Popen([sys.executable, "-c", _ADDER, str(go), str(root),
                               *map(str, batch)], stderr=subprocess.PIPE, text=True)
             for batch in batches]
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    entries = Leaderboard(root, BENCH).entries()
    assert sorted(e["run_id"] for e in entries) == sorted(p.name for b in batches for p in b)


def test_a_crash_during_a_write_keeps_the_old_file(runs: Path, tmp_path: Path) -> None:
    run = write_run(runs, seed=0)
    target = add_runs([run], tmp_path / "lb")[0].path
    before = target.read_bytes()
    crash = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from serbench.leaderboard.atomic import write_atomic
        os.replace = lambda *a: os._exit(3)   # the process dies between write and rename
        write_atomic(Path({str(target)!r}), '{{"half": ')
    """)
    assert subprocess.run([sys.executable, "-c", crash]).returncode == 3
    assert target.read_bytes() == before
    leftovers = [p for p in target.parent.iterdir() if p.name.startswith(".")]
    assert leftovers, "the killed writer leaves its temporary file behind"
    assert len(Leaderboard(tmp_path / "lb", BENCH).entries()) == 1  # readers skip it


def test_a_failing_write_removes_its_temporary_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.json"
    write_atomic(target, "old\n")

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_create_exclusive_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "v1.json"
    assert create_exclusive(path, "first\n")
    assert not create_exclusive(path, "second\n")
    assert path.read_text() == "first\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1.json"]


def test_publish_v1_then_v2_leaves_v1_byte_identical(runs: Path, tmp_path: Path) -> None:
    root = tmp_path / "lb"
    add_runs([write_run(runs, model="bilstm_att", seed=0)], root)
    board = Leaderboard(root, BENCH)
    version, written = board.publish(note="first")
    # the .json, which readers require, is written last
    assert version == 1 and [p.name for p in written] == ["v1.md", "v1.html", "v1.json"]
    frozen = {p.name: p.read_bytes() for p in written}
    add_runs([write_run(runs, model="svm", seed=0, skill=0.3)], root)
    version2, written2 = board.publish()
    assert version2 == 2 and board.versions() == [1, 2]
    assert {p.name: p.read_bytes() for p in written} == frozen
    v1, v2 = board.snapshot(1), board.snapshot(2)
    assert len(v1["entries"]) == 1 and len(v2["entries"]) == 2
    assert v1["note"] == "first" and v1["serbench_version"] and v1["published"]
    assert v2["schema_version"] == 1 and board.snapshot()["version"] == 2
    assert (board.dir / "README.md").read_text() == written2[0].read_text()
    with pytest.raises(ConfigError, match="no version 7"):
        board.snapshot(7)


def test_publishing_an_empty_or_missing_benchmark_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no leaderboard 'nope'"):
        Leaderboard(tmp_path, "nope").publish()


def test_fingerprint_conflict_names_the_file_and_field(runs: Path, tmp_path: Path) -> None:
    add_runs([write_run(runs, seed=0)], tmp_path / "lb")
    other = write_run(runs, seed=1, fingerprint="0" * 16)
    with pytest.raises(SchemaError) as err:
        add_runs([other], tmp_path / "lb")
    assert err.value.field == "corpus.fingerprint"
    assert err.value.path == str(other / "record.json")
    assert "0000000000000000" in str(err.value) and "ffffffffffffffff" in str(err.value)


def test_an_entry_copied_in_from_other_data_is_rejected_on_read(runs: Path,
                                                                tmp_path: Path) -> None:
    add_runs([write_run(runs, seed=0)], tmp_path / "lb")
    board = Leaderboard(tmp_path / "lb", BENCH)
    path = next(board.entries_dir.glob("*.json"))
    doc = json.loads(path.read_text())
    doc["corpus"]["fingerprint"] = "1" * 16
    path.write_text(json.dumps(doc))
    with pytest.raises(SchemaError, match=r"field 'corpus.fingerprint'") as err:
        board.entries()
    assert err.value.path == str(path)


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d["timing"].update(inference_latency_ms="fast"), "timing.inference_latency_ms"),
    (lambda d: d.pop("folds"), "folds"),
    (lambda d: d["model"].update(version="one"), "model.version"),
    (lambda d: d.update(run_id="other-run"), "run_id"),
    (lambda d: d["aggregate"]["mean"].update(ua="high"), "aggregate.mean.ua"),
])
def test_a_hand_edited_entry_names_the_file_and_field(runs: Path, tmp_path: Path, edit,
                                                      field: str) -> None:
    add_runs([write_run(runs, seed=0)], tmp_path / "lb")
    board = Leaderboard(tmp_path / "lb", BENCH)
    path = next(board.entries_dir.glob("*.json"))
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(SchemaError) as err:
        board.entries()
    assert err.value.path == str(path) and err.value.field == field
    assert str(path) in str(err.value) and field in str(err.value)


def test_truncated_json_is_reported_with_its_file(runs: Path, tmp_path: Path) -> None:
    add_runs([write_run(runs, seed=0)], tmp_path / "lb")
    board = Leaderboard(tmp_path / "lb", BENCH)
    path = next(board.entries_dir.glob("*.json"))
    path.write_text(path.read_text()[:50])
    with pytest.raises(SchemaError, match="not valid JSON") as err:
        board.entries()
    assert err.value.path == str(path)


def test_bad_run_records_are_refused(tmp_path: Path) -> None:
    record, _ = make_record()
    folder = tmp_path / "r"
    folder.mkdir()
    for change, field in ((dict(schema_version=9), "schema_version"),
                          (dict(status="running"), "status"),
                          (dict(timing={"clock": "sundial"}), "timing.device_name")):
        (folder / "record.json").write_text(json.dumps({**record, **change}))
        with pytest.raises(SchemaError) as err:
            add_runs([folder], tmp_path / "lb")
        assert err.value.field == field and err.value.path == str(folder / "record.json")


def test_a_run_missing_a_benchmark_metric_is_refused(runs: Path, tmp_path: Path) -> None:
    run = write_run(runs, seed=0)
    with pytest.raises(SchemaError, match="aggregate.mean.ccc"):
        add_runs([run], tmp_path / "lb", metrics=["ua", "ccc"])


_PUBLISHER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from serbench.leaderboard.store import Leaderboard
    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.005)
    print(Leaderboard(Path(sys.argv[2]), sys.argv[3]).publish()[0])
""")


def test_two_processes_publishing_at_once_get_distinct_versions(runs: Path,
                                                                tmp_path: Path) -> None:
    root, go = tmp_path / "lb", tmp_path / "go"
    add_runs([write_run(runs, seed=0)], root)
    procs = [subprocess.Popen([sys.executable, "-c", _PUBLISHER, str(go), str(root), BENCH],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    go.touch()
    versions = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        versions.append(int(out))
    assert sorted(versions) == [1, 2]
    board = Leaderboard(root, BENCH)
    assert [board.snapshot(v)["version"] for v in (1, 2)] == [1, 2]


def test_add_skips_folders_that_are_no_run_and_says_why_for_one_alone(
        runs: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from serbench.cli import cli

    run = write_run(runs, seed=0)
    studies = runs / "studies"  # what `serbench tune` leaves beside the runs
    studies.mkdir()
    (studies / "study.db").write_text("")
    results = add_runs([run, studies], tmp_path / "lb")
    assert [r.status for r in results] == ["added", "skipped"]
    assert results[1].path == studies and len(Leaderboard(tmp_path / "lb", BENCH).entries()) == 1
    with pytest.raises(ConfigError, match="not a run folder") as alone:
        add_runs([studies], tmp_path / "lb")
    assert "--resume" not in str(alone.value)
    unfinished = runs / "half"
    unfinished.mkdir()
    (unfinished / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="not finished.*--resume"):
        add_runs([run, unfinished], tmp_path / "lb")
    shown = CliRunner().invoke(cli, ["leaderboard", "add", str(run), str(studies),
                                     "--root", str(tmp_path / "lb")])
    assert shown.exit_code == 0, shown.output
    assert "skipped, not a run folder" in shown.stderr and "already on" in shown.stdout
