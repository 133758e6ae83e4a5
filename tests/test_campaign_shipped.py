"""Finished folds of an unfinished run travel with the leaderboards: a run that one session
stopped resumes on a fresh clone with them, and they go once the run is on the board."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from click.testing import CliRunner

import serbench.campaign.sweep as sweep_module
from serbench.campaign.shipped import restore, ship, shipped_folder, shipped_folds
from serbench.campaign.sweep import SweepInterrupted, sweep
from serbench.cli import cli
from serbench.leaderboard.store import Leaderboard
from serbench.testing.corpora import write_tiny_corpus

SUITE = """
[campaign]
name = "tiny"
seeds = [0]

[[benchmarks]]
corpus = "manifest"
data = "{csv}"
protocol = "loso-speaker"
name = "tiny-loso"

[[models]]
name = "svm"
"""

BOARD = "tiny-loso"


@pytest.fixture
def stopped(tmp_path, monkeypatch):
    """A complete run (``runs/``) and a copy of it stopped after two of its three folds
    (``session1/``): no record, the third fold's files gone."""
    for var in ("DATA", "CACHE"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    csv = write_tiny_corpus(tmp_path / "tiny", speakers=3, per_speaker=4)
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE.format(csv=csv))
    (done,) = sweep(suite, runs_dir=tmp_path / "runs", leaderboards=tmp_path / "scratch",
                    progress=False).outcomes
    source = tmp_path / "session1" / done.run_id
    shutil.copytree(tmp_path / "runs" / done.run_id, source)
    for name in ("record.json", "predictions.parquet", "valid_predictions.parquet"):
        (source / name).unlink(missing_ok=True)
    last = sorted((source / "folds").glob("*.json"))[-1]
    for path in (source / "folds").glob(last.stem + ".*"):
        path.unlink()
    return tmp_path, suite, done


def test_an_interrupted_sweep_ships_the_finished_folds(stopped, monkeypatch):
    tmp, suite, done = stopped
    shutil.move(tmp / "session1", tmp / "stopped")

    def two_folds_then_ctrl_c(*args):  # the executor's run finishes two folds
        shutil.move(tmp / "stopped", tmp / "session1")
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_module, "_execute", two_folds_then_ctrl_c)
    with pytest.raises(SweepInterrupted):
        sweep(suite, runs_dir=tmp / "session1", leaderboards=tmp / "boards", progress=False)
    kept = sorted(p.name for p in (tmp / "session1" / done.run_id / "folds").glob("*.json"))
    assert len(kept) == 2
    shipped = shipped_folder(tmp / "boards", BOARD, done.run_id)
    assert sorted(p.name for p in shipped.folds_dir.glob("*.json")) == kept
    assert shipped.read_config() == json.loads(
        (tmp / "session1" / done.run_id / "config.json").read_text())


def test_folds_are_shipped_while_the_run_goes_on(stopped, monkeypatch):
    # a sweep killed outright (SIGKILL: no finally) has shipped what finished before
    tmp, suite, done = stopped
    shutil.move(tmp / "session1", tmp / "stopped")
    seen: list[list[str]] = []
    monkeypatch.setattr(sweep_module, "SHIP_EVERY_S", 2.0)

    def running(executor, todo, folder, suite, workers, wait, bar, finished, poll):
        poll()  # nothing finished yet
        seen.append(shipped_folds(tmp / "boards", BOARD, done.run_id))
        shutil.move(tmp / "stopped", tmp / "session1")  # the run finishes two folds
        poll()  # within SHIP_EVERY_S of the last: not yet
        seen.append(shipped_folds(tmp / "boards", BOARD, done.run_id))
        time.sleep(2.1)
        poll()
        seen.append(shipped_folds(tmp / "boards", BOARD, done.run_id))
        return []

    monkeypatch.setattr(sweep_module, "_execute", running)
    sweep(suite, runs_dir=tmp / "session1", leaderboards=tmp / "boards", progress=False)
    assert [len(s) for s in seen] == [0, 0, 2]


def test_the_local_executor_polls_while_runs_go_on(tmp_path, monkeypatch):
    from serbench.campaign.executors.local import run_local
    from serbench.campaign.outcome import CampaignFolder
    from serbench.campaign.plan import PlannedRun
    from serbench.campaign.suite import Benchmark, Resources

    monkeypatch.setenv("SERBENCH_RUNS", str(tmp_path / "runs"))
    polls: list[int] = []
    run = PlannedRun(run_id="a", settings={"model": "no_such_model", "seed": 0},
                     benchmark=Benchmark(corpus="synthetic"), leaderboard="x", label="a/s0",
                     resources=Resources())
    (outcome,) = run_local([run], CampaignFolder(tmp_path / "runs", "c"),
                           on_poll=lambda: polls.append(1))
    assert outcome.status == "failed" and polls


def test_a_fold_that_cannot_be_shipped_is_reported_and_the_campaign_goes_on(stopped):
    tmp, suite, done = stopped
    (tmp / "boards" / BOARD).mkdir(parents=True)
    (tmp / "boards" / BOARD / "partial").write_text("not a folder")  # shipping fails
    result = CliRunner().invoke(cli, ["sweep", str(suite), "--runs-dir", str(tmp / "session1"),
                                      "--leaderboard-root", str(tmp / "boards"), "-q"])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, text
    assert f"finished folds of run {done.run_id} were not shipped" in text
    assert "kept in the runs folder" in text
    assert (tmp / "session1" / done.run_id / "record.json").is_file()  # it ran to the end


def test_a_fresh_clone_resumes_from_the_shipped_folds_then_drops_them(stopped):
    tmp, suite, done = stopped
    boards = tmp / "boards"
    assert len(ship(tmp / "session1", boards, BOARD, done.run_id)) == 2
    assert ship(tmp / "session1", boards, BOARD, done.run_id) == []  # nothing new
    plan = CliRunner().invoke(cli, ["sweep", str(suite), "--dry-run", "--runs-dir",
                                    str(tmp / "clone"), "--leaderboard-root", str(boards)])
    assert "to do (resume); 2 fold(s) shipped" in " ".join(plan.output.split()), plan.output
    # what is left: one fold, at the shipped folds' time (training + predicting the test set)
    (planned,) = sweep(suite, runs_dir=tmp / "clone", leaderboards=boards, dry_run=True).runs
    timings = [(t["timing"]["train_seconds"], t["n_test"] / t["timing"]["throughput_utt_per_s"])
               for t in (json.loads(p.read_text()) for p in
                         shipped_folder(boards, BOARD, done.run_id).folds_dir.glob("*.json"))]
    assert planned.n_folds == 3
    assert planned.estimate_s == pytest.approx(sum(a + b for a, b in timings) / 2 * 1)
    (resumed,) = sweep(suite, runs_dir=tmp / "clone", leaderboards=boards,
                       progress=False).outcomes
    assert resumed.status == "done" and resumed.run_id == done.run_id
    log = resumed.log.read_text(encoding="utf-8")
    assert "2 of 3 fold(s) already finished" in " ".join(log.split()), log
    assert resumed.ua == done.ua  # the same run: shipped folds + the one computed now
    assert not (boards / BOARD / "partial").exists()  # on the board: shipped folds dropped
    assert [e["run_id"] for e in Leaderboard(boards, BOARD).current()["entries"]] == [
        done.run_id]


def test_shipped_folds_never_join_a_run_folder_of_another_configuration(stopped):
    tmp, suite, done = stopped
    boards = tmp / "boards"
    ship(tmp / "session1", boards, BOARD, done.run_id)
    clone = tmp / "clone" / done.run_id
    clone.mkdir(parents=True)
    config = json.loads((tmp / "session1" / done.run_id / "config.json").read_text())
    config["identity"]["seed"] = 99
    (clone / "config.json").write_text(json.dumps(config))
    assert restore(tmp / "clone", boards, BOARD, done.run_id) == []
    assert not (clone / "folds").exists()
    assert len(shipped_folds(boards, BOARD, done.run_id)) == 2
