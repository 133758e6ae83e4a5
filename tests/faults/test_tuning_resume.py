"""Faults: a tuning worker killed mid-trial, then the study resumed (SQLite storage).

After a kill and resumes, every completed trial must be a distinct setting (each
process seeds its sampler from the study and the trials it already holds), and the
killed trial must be marked FAIL with its reason and retried exactly once.

The fast test kills a trial the way the heartbeat sees it (a running trial that stops
beating) inside one process; the slow one SIGKILLs a real ``serbench tune`` worker
(``tests/_tune_worker.py`` with the stalling ``slow_svm``) and resumes it twice.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from _run_helpers import toy_plugin, toy_table
from optuna.trial import TrialState

from serbench.plugins import Registry, make_plugin_manager
from serbench.run.config import RunConfig
from serbench.testing.corpora import write_tiny_corpus
from serbench.tuning.report import STALE_REASON
from serbench.tuning.samplers import sampler_seed
from serbench.tuning.study import TuneConfig, tune

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _settings(trials) -> list[tuple]:
    return [tuple(sorted(t.params.items())) for t in trials]


def _retried_once(trials, dead: int) -> bool:
    with_retry = [t for t in trials if t.system_attrs.get("failed_trial") == dead]
    return len(with_retry) == 1 and with_retry[0].state == TrialState.COMPLETE


def test_the_seed_differs_per_resume_and_per_study():
    seeds = {sampler_seed(0, "s", n, shared=False) for n in (0, 3, 4, 7)}
    assert len(seeds) == 4
    assert sampler_seed(0, "s", 3, shared=False) == sampler_seed(0, "s", 3, shared=False)
    assert sampler_seed(0, "s", 0, shared=False) != sampler_seed(0, "t", 0, shared=False)
    assert sampler_seed(0, "s", 0, shared=False) != sampler_seed(1, "s", 0, shared=False)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # study.ask() fakes the dead trial
@pytest.mark.parametrize("beat_before_death", [True, False], ids=["beat", "never-beat"])
def test_a_resumed_study_explores_new_points(env, beat_before_death):
    """``never-beat``: the worker died between creating the trial and its first heartbeat,
    which Optuna alone never calls stale."""
    csv = write_tiny_corpus(env / "tiny", speakers=6, per_speaker=4)
    registry = Registry(make_plugin_manager(extra_plugins=[("toy_features", toy_plugin())]))
    run = RunConfig(model="svm", corpus="manifest", data=csv, protocol="loso-speaker",
                    feature="toy_functionals", device="cpu")
    features = toy_table(csv, "functionals")

    def once(trials: int):
        return tune(TuneConfig(run=run, trials=trials, heartbeat=1, plots=False),
                    registry=registry, progress=False, features=features)

    first = once(2)
    study = first.study
    dead = study.ask()  # a worker killed mid-trial: running, then silent
    if beat_before_death:
        study._storage.record_heartbeat(dead._trial_id)
    time.sleep(3.5)  # > the grace period (2 x heartbeat) on SQLite's one-second clock
    once(4)
    last = once(6)
    trials = last.study.get_trials()
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 6
    assert len(set(_settings(complete))) == 6, _settings(complete)
    assert len({t.user_attrs["sampler_seed"] for t in complete}) == 3  # one per process
    assert trials[dead.number].state == TrialState.FAIL
    assert _retried_once(trials, dead.number)
    reasons = {t["number"]: t["reason"] for t in last.summary["trials"]}
    assert reasons[dead.number] == STALE_REASON


def _worker(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(TESTS / "_tune_worker.py"), "tune", *args],
                            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_a_killed_worker_is_resumed_without_repeating(tmp_path):
    csv = write_tiny_corpus(tmp_path / "tiny", speakers=6, per_speaker=4)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for var in ("DATA", "CACHE", "RUNS"):
        env[f"SERBENCH_{var}"] = str(tmp_path / var.lower())
    args = ["--model", "slow_svm", "--corpus", "manifest", "--data", str(csv),
            "--protocol", "loso-speaker", "--study", "killed", "--heartbeat", "1",
            "--no-plots", "--quiet"]

    db = tmp_path / "runs" / "studies" / "killed.db"

    def states() -> list[str]:
        """Trial states, read without Optuna (which would race the worker creating the
        schema)."""
        if not db.is_file():
            return []
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
                return [r[0] for r in con.execute("SELECT state FROM trials ORDER BY number")]
        except sqlite3.OperationalError:  # no table yet
            return []

    def trials() -> list:
        return optuna.load_study(study_name="killed", storage=f"sqlite:///{db}").get_trials()

    doomed = _worker([*args, "--trials", "5"], {**env, "SERBENCH_TEST_FIT_SLEEP": "1.5"},
                     tmp_path / "doomed.log")
    try:
        end = time.monotonic() + 300
        while not (states().count("COMPLETE") >= 2 and "RUNNING" in states()):
            assert doomed.poll() is None, (tmp_path / "doomed.log").read_text()
            assert time.monotonic() < end, "the first worker never reached its third trial"
            time.sleep(0.2)
        doomed.send_signal(signal.SIGKILL)  # mid-trial
        doomed.wait(timeout=30)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()
    dead = next(t.number for t in trials() if t.state == TrialState.RUNNING)
    time.sleep(3.5)  # let its heartbeat go stale
    for n, target in enumerate((6, 9)):
        log = tmp_path / f"resume{n}.log"
        proc = _worker([*args, "--trials", str(target)], env, log)
        assert proc.wait(timeout=300) == 0, log.read_text()
    done = trials()
    complete = [t for t in done if t.state == TrialState.COMPLETE]
    assert len(complete) == 9
    assert len(set(_settings(complete))) == 9, _settings(complete)
    assert done[dead].state == TrialState.FAIL and _retried_once(done, dead)
    summary = json.loads((tmp_path / "runs" / "studies" / "killed" / "summary.json").read_text())
    assert {t["number"]: t["reason"] for t in summary["trials"]}[dead] == STALE_REASON
