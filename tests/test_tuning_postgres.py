"""Many workers, one study, a real PostgreSQL server (``tox -e postgres``).

The fixture installs PostgreSQL from Debian packages when it is missing (root), creates
a throw-away cluster with ``initdb`` in a temporary folder (as the ``postgres`` user when
running as root: initdb refuses root), starts it on a free loopback port with ``pg_ctl``
and stops it afterwards. Two ``serbench tune`` worker processes then tune one study; the
first is killed (SIGKILL) in the middle of a trial, and the other finishes the study:
the dead worker's trial is marked FAIL through heartbeats and queued again.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres

HERE = Path(__file__).resolve().parent
TARGET = 5


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _install() -> Path:
    bindir = _bindir()
    if bindir is None:
        if os.geteuid() != 0:
            pytest.skip("PostgreSQL is not installed and installing it needs root")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "postgresql"], check=True, env=env,
                       capture_output=True)
        bindir = _bindir()
    assert bindir is not None, "apt-get installed postgresql but no initdb was found"
    return bindir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _install()
    base = Path(tempfile.mkdtemp(prefix="serbench-pg-"))
    data, sock = base / "data", base / "sock"
    data.mkdir()
    sock.mkdir()
    as_pg: list[str] = []
    if os.geteuid() == 0:
        os.chmod(base, 0o755)
        for path in (base, data, sock):
            shutil.chown(path, "postgres", "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"], check=True,
                   capture_output=True)
    port = _free_port()
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-l",
                    str(sock / "server.log"), "-w", "-o", options, "start"], check=True,
                   capture_output=True)
    try:
        subprocess.run([*as_pg, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                        "-U", "postgres", "serbench"], check=True, capture_output=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/serbench"
    finally:
        subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _worker(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(HERE / "_tune_worker.py"), "tune", *args],
                            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    proc.log_path = log
    return proc


def _wait(condition, timeout: float, what: str, procs=()) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"a worker exited early while {what}:\n"
                                     + Path(proc.log_path).read_text())
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting until {what}")


def test_workers_share_a_study_and_survive_a_killed_worker(postgres_url, tmp_path):
    import optuna
    from optuna.trial import TrialState

    from serbench.testing.corpora import write_tiny_corpus
    from serbench.tuning.report import STALE_REASON
    from serbench.tuning.storage import driver_url

    csv = write_tiny_corpus(tmp_path / "tiny", speakers=6, per_speaker=4)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for var in ("DATA", "CACHE", "RUNS"):
        env[f"SERBENCH_{var}"] = str(tmp_path / var.lower())
    args = ["--model", "slow_svm", "--corpus", "manifest", "--data", str(csv),
            "--protocol", "loso-speaker", "--study", "shared", "--storage", postgres_url,
            "--trials", str(TARGET), "--sampler", "random", "--heartbeat", "1",
            "--no-plots", "--quiet"]
    marks = tmp_path / "marks"
    doomed = _worker(args, {**env, "SERBENCH_TEST_FIT_SLEEP": "300",
                            "SERBENCH_TEST_FIT_MARK": str(marks / "doomed")},
                     tmp_path / "doomed.log")
    survivor = None
    try:
        # the first worker extracts the features, creates the study and starts a trial
        _wait(lambda: (marks / "doomed").is_dir(), 240, "the first worker starts a trial",
              [doomed])
        survivor = _worker(args, {**env, "SERBENCH_TEST_FIT_SLEEP": "1",
                                  "SERBENCH_TEST_FIT_MARK": str(marks / "survivor")},
                           tmp_path / "survivor.log")

        def survivor_finished_one() -> bool:
            study = optuna.load_study(study_name="shared", storage=driver_url(postgres_url))
            return any(t.state == TrialState.COMPLETE for t in study.get_trials())

        _wait(survivor_finished_one, 240, "the second worker completes a trial",
              [doomed, survivor])
        assert doomed.poll() is None  # both workers were tuning the study at once
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        assert survivor.wait(timeout=300) == 0, (tmp_path / "survivor.log").read_text()
    finally:
        for proc in (doomed, survivor):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    study = optuna.load_study(study_name="shared", storage=driver_url(postgres_url))
    trials = study.get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert len(complete) == TARGET
    assert len(failed) == 1, [(t.number, t.state.name) for t in trials]
    dead = failed[0]
    assert dead.user_attrs.get("origin") == "model defaults"  # the first trial (slow_svm cites no paper), killed
    retries = [t for t in trials
               if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t)
               == dead.number]
    assert retries and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == dead.params
    summary = json.loads((tmp_path / "runs" / "studies" / "shared" / "summary.json").read_text())
    reasons = {t["number"]: t["reason"] for t in summary["trials"]}
    assert reasons[dead.number] == STALE_REASON
    assert "***" not in summary["storage"] and summary["storage"] == postgres_url
    assert study.user_attrs["model"]["name"] == "slow_svm"
