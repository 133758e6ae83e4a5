"""Faults in running: a second `serbench run` / `--resume` of a run that another process is
running, and a run whose process crashed (SIGKILL) while holding its lock.

The first run is a real CLI process (``serbench.cli.main``) whose ``run_fold`` is wrapped
to stop before its second fold; the test waits for it there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.run.lock import OWNER_NAME, RunAlreadyRunning, run_lock
from serbench.testing.corpora import write_tiny_corpus

_PAUSED_RUN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import serbench.training.fold as fold
    from serbench.cli import main

    marker = Path(sys.argv[1])
    real, calls = fold.run_fold, []

    def run_fold(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first fold is on disk
            marker.touch()
            time.sleep(600)
        return real(*args, **kwargs)

    fold.run_fold = run_fold
    main(sys.argv[2:])
""")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


def _args(csv: Path) -> list[str]:
    return ["run", "--model", "svm", "--corpus", "manifest", "--data", str(csv),
            "--protocol", "loso-speaker", "-q"]


def test_a_running_run_refuses_a_second_run_and_resume_then_resumes_after_a_crash(
        env: Path) -> None:
    csv = write_tiny_corpus(env / "tiny", speakers=3, per_speaker=4)
    marker = env / "paused"
    first = subprocess.Popen([sys.executable, "-c", _PAUSED_RUN, str(marker), *_args(csv)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            if first.poll() is not None:
                pytest.fail(f"the first run ended early: {first.communicate()}")
            assert time.monotonic() < deadline, "the first run never reached its second fold"
            time.sleep(0.1)
        (folder,) = [p for p in (env / "runs").iterdir() if (p / "config.json").is_file()]
        done_before = {p.name: p.stat().st_mtime_ns for p in (folder / "folds").glob("*.json")}
        assert len(done_before) == 1

        for extra in ([], ["--resume"]):
            second = CliRunner().invoke(cli, [*_args(csv), *extra])
            assert second.exit_code != 0
            message = str(second.exception)
            assert isinstance(second.exception, RunAlreadyRunning), message
            assert f"already running (pid {first.pid} " in message
            assert "--resume" not in message  # adding it would not help
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: the lock must not outlive it
        first.communicate(timeout=30)

    resumed = CliRunner().invoke(cli, [*_args(csv), "--resume"])
    assert resumed.exit_code == 0, resumed.output + repr(resumed.exception)
    assert "Resuming" in resumed.output
    assert {p: (folder / "folds" / p).stat().st_mtime_ns for p in done_before} == done_before
    record = json.loads((folder / "record.json").read_text())
    assert [f["name"] for f in record["folds"]] == ["spk01", "spk02", "spk03"]
    assert not (folder / OWNER_NAME).exists()  # no owner note left


def test_the_lock_names_its_holder_and_is_free_again_after_release(env: Path) -> None:
    run_dir = env / "runs" / "svm-manifest-loso-speaker-s0-00000000"
    with run_lock(run_dir, ["serbench", "run"]):
        owner = json.loads((run_dir / OWNER_NAME).read_text())
        other = subprocess.run(
            [sys.executable, "-c", "import sys; from serbench.run.lock import run_lock\n"
             "with run_lock(sys.argv[1]): pass", str(run_dir)],
            capture_output=True, text=True, timeout=60)
        assert other.returncode != 0
        assert (f"RunAlreadyRunning: run {run_dir.name} is already running "
                f"(pid {os.getpid()} on ") in other.stderr
    assert owner["pid"] == os.getpid() and owner["command"] == ["serbench", "run"]
    assert not run_dir.exists()  # the run wrote nothing: no empty folder stays
    with run_lock(run_dir):  # released: taken again at once
        pass


def test_an_existing_run_that_is_not_running_keeps_the_resume_advice(env: Path) -> None:
    csv = write_tiny_corpus(env / "tiny", speakers=3, per_speaker=4)
    args = [*_args(csv), "--folds", "spk01"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    (folder,) = [p for p in (env / "runs").iterdir() if p.is_dir()]
    (folder / "record.json").unlink()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code != 0 and "Add --resume" in str(again.exception)
    assert "already running" not in str(again.exception)
    forced = CliRunner().invoke(cli, [*args, "--force"])  # --force empties the folder, locked
    assert forced.exit_code == 0, forced.output + repr(forced.exception)
    assert (folder / "record.json").is_file() and (folder / ".lock").is_file()
