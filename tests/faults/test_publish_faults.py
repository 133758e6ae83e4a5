"""Faults in publishing: a `serbench leaderboard publish` killed between files, stray
temporary files, and HTML in user-supplied names and notes.

The killed publish is a real CLI process (``serbench.cli.main``) whose
``write_temp`` is wrapped to stop, before the file is linked into place, while
writing the file named by ``PAUSE_ON``; the test waits for it there and sends SIGKILL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _leaderboard_records import write_run

from serbench.atomic import remove_stale_temps, write_temp
from serbench.leaderboard.store import Leaderboard, add_runs

BENCH = "synthetic-4class-loso-speaker"
SERBENCH = Path(sys.executable).with_name("serbench")

_KILLABLE_PUBLISH = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import serbench.leaderboard.atomic as atomic
    from serbench.cli import main

    marker, pause_on = Path(sys.argv[1]), sys.argv[2]
    real = atomic.write_temp

    def write_temp(path, write):
        tmp = real(path, write)
        if path.name == pause_on:  # the temporary file is complete, not yet linked
            marker.write_text(str(tmp))
            time.sleep(600)
        return tmp

    atomic.write_temp = write_temp
    main(sys.argv[3:])
""")


@pytest.fixture()
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{name}", str(tmp_path / name.lower()))
    return tmp_path / "runs"


def _kill_publish_at(root: Path, pause_on: str, tmp_path: Path) -> None:
    """Start a publish, wait until it writes ``pause_on``'s temporary file, SIGKILL it."""
    marker = tmp_path / f"paused-{pause_on}"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLABLE_PUBLISH, str(marker), pause_on,
         "leaderboard", "publish", BENCH, "--root", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the publish ended before the pause: {proc.communicate()}")
        assert time.monotonic() < deadline, "the publish never reached the pause"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert Path(marker.read_text()).exists(), "the killed publish left its temporary file"


def _publish_cli(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SERBENCH), "leaderboard", "publish", BENCH, "--root", str(root)],
                          capture_output=True, text=True, timeout=120)


def _temporaries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.tmp"))


def test_a_publish_killed_between_files_is_redone_under_the_same_number(
        runs: Path, tmp_path: Path) -> None:
    root = tmp_path / "lb"
    add_runs([write_run(runs, model="bilstm_att", seed=0)], root)
    board = Leaderboard(root, BENCH)
    assert board.publish(note="first")[0] == 1
    v1 = {p.name: p.read_bytes() for p in board.published_dir.iterdir()}
    add_runs([write_run(runs, model="svm", seed=0, skill=0.3)], root)

    _kill_publish_at(root, "v2.html", tmp_path)  # v2.md is written, v2.html half-way
    assert (board.published_dir / "v2.md").is_file()
    assert board.versions() == [1], "a half-written version must be invisible to readers"
    assert board.snapshot()["version"] == 1

    done = _publish_cli(root)
    assert done.returncode == 0, done.stderr
    assert "removed" in done.stdout and "v2.md" in done.stdout
    assert "published synthetic-4class-loso-speaker v2:" in done.stdout
    assert board.versions() == [1, 2]
    assert sorted(p.name for p in board.published_dir.iterdir() if p.name.startswith("v2")) \
        == ["v2.html", "v2.json", "v2.md"]
    assert len(board.snapshot(2)["entries"]) == 2
    assert {p.name: p.read_bytes() for p in board.published_dir.iterdir()
            if p.name.startswith("v1")} == v1
    assert (board.dir / "README.md").read_text() == (board.published_dir / "v2.md").read_text()
    assert _temporaries(board.dir) == []


def test_a_first_publish_killed_before_its_json_leaves_no_version(runs: Path,
                                                                  tmp_path: Path) -> None:
    root = tmp_path / "lb"
    add_runs([write_run(runs, seed=0)], root)
    _kill_publish_at(root, "v1.json", tmp_path)  # both renders written, the .json not yet
    board = Leaderboard(root, BENCH)
    assert board.versions() == []
    done = _publish_cli(root)
    assert done.returncode == 0, done.stderr
    assert board.versions() == [1] and board.snapshot(1)["version"] == 1
    assert _temporaries(board.dir) == []


def test_a_version_missing_its_renders_is_completed_not_skipped(runs: Path,
                                                                tmp_path: Path) -> None:
    """A serbench that wrote the .json first could die before the renders."""
    root = tmp_path / "lb"
    add_runs([write_run(runs, seed=0)], root)
    board = Leaderboard(root, BENCH)
    board.publish()
    expected = {s: board.snapshot_path(1, s).read_text() for s in (".md", ".html")}
    for suffix in expected:
        board.snapshot_path(1, suffix).unlink()
    (board.dir / "README.md").unlink()
    done = board.recover()
    assert any("completed" in line and "v1.md" in line for line in done)
    assert {s: board.snapshot_path(1, s).read_text() for s in expected} == expected
    assert (board.dir / "README.md").read_text() == expected[".md"]
    assert board.publish()[0] == 2


def test_stray_temporary_files_of_dead_writers_are_removed_live_ones_kept(
        runs: Path, tmp_path: Path) -> None:
    root = tmp_path / "lb"
    add_runs([write_run(runs, seed=0)], root)
    board = Leaderboard(root, BENCH)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    name = write_temp(board.entries_dir / "x.json", lambda t: t.write_text("{}")).name
    ours = board.entries_dir / name
    # the same name pattern, with the pid of a process that has exited
    stale = board.entries_dir / name.replace(f".{os.getpid()}-", f".{dead.stdout.strip()}-")
    stale.write_text("{")
    unnamed = board.entries_dir / ".y.json.abc.tmp"
    unnamed.write_text("{")
    assert remove_stale_temps(board.entries_dir) == [stale]  # ours is alive; unnamed is new
    old = time.time() - 7200
    os.utime(unnamed, (old, old))
    add_runs([write_run(runs, seed=1)], root)  # add cleans entries/ too
    assert not unnamed.exists() and ours.exists()
    ours.unlink()


def test_markdown_escapes_html_in_names_notes_and_labels(runs: Path, tmp_path: Path) -> None:
    root = tmp_path / "lb"
    run = write_run(runs, seed=0)  # the run id stays plain (the record schema checks it)
    record = json.loads((run / "record.json").read_text())
    record["model"].update(name="<img src=x onerror=alert(1)>", variant="a`<b>`",
                           citation="<i>et al.</i>")
    (run / "record.json").write_text(json.dumps(record))
    add_runs([run], root)
    board = Leaderboard(root, BENCH)
    _, written = board.publish(note="<script>alert('note')</script> & more")
    md = next(p for p in written if p.suffix == ".md").read_text()
    # code spans show their text verbatim (CommonMark renders no HTML inside them)
    outside_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", md)
    assert "<" not in outside_code and ">" not in outside_code
    assert "&lt;script&gt;alert('note')&lt;/script&gt; &amp; more" in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md and "&lt;i&gt;et al." in md
    assert "`` a`<b>` ``" in md  # a fence longer than the backtick inside
    html = next(p for p in written if p.suffix == ".html").read_text()
    assert "<script>alert('note')" not in html and "<img src=x" not in html
