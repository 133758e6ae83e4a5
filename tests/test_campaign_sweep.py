"""``serbench sweep`` on the local executor: runs, leaderboards, resuming, failures."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from serbench.campaign.executors.local import run_local, threads_per_worker
from serbench.campaign.outcome import CampaignFolder
from serbench.campaign.plan import PlannedRun
from serbench.campaign.suite import Benchmark, Resources
from serbench.campaign.sweep import sweep
from serbench.cli import cli
from serbench.errors import ConfigError
from serbench.leaderboard.store import Leaderboard
from serbench.testing.corpora import write_tiny_corpus

SUITE = """
[campaign]
name = "tiny"
description = "svm over two seeds"
seeds = [0, 1]

[[benchmarks]]
corpus = "manifest"
data = "{csv}"
protocol = "loso-speaker"
name = "tiny-loso"

[[models]]
name = "svm"
set = {{ C = 2.0 }}
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    csv = write_tiny_corpus(tmp_path / "tiny", speakers=3, per_speaker=4)
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE.format(csv=csv))
    return tmp_path, suite


def test_sweep_runs_fills_the_leaderboard_then_runs_nothing(env):
    tmp, suite = env
    runs, boards = tmp / "runs", tmp / "boards"
    result = sweep(suite, runs_dir=runs, leaderboards=boards, workers=2, progress=False,
                   publish=True)
    assert [o.status for o in result.outcomes] == ["done", "done"]
    for outcome in result.outcomes:
        record = json.loads((runs / outcome.run_id / "record.json").read_text())
        assert outcome.ua == record["aggregate"]["pooled"]["ua"]  # read back, not computed
        assert record["training"]["cpu_threads"] == threads_per_worker(2)
    board = Leaderboard(boards, "tiny-loso")
    (group,) = board.current()["summary"]["groups"]
    assert group["seeds"] == [0, 1] and group["scores"]["ua"]["seed_std"] is not None
    assert result.published == {"tiny-loso": 1}
    note = board.snapshot(1)["note"]
    assert "campaign 'tiny'" in note and "seeds 0, 1" in note and "svm over two seeds" in note
    logs = sorted((runs / "campaigns" / "tiny" / "logs").iterdir())
    stamps = [p.stat().st_mtime_ns for p in logs]
    again = sweep(suite, runs_dir=runs, leaderboards=boards, progress=False)
    assert [o.status for o in again.outcomes] == ["already done", "already done"]
    assert [p.stat().st_mtime_ns for p in logs] == stamps  # no process was started
    assert len(board.current()["entries"]) == 2



def test_runs_only_on_the_leaderboard_are_not_run_again_until_retired(env):
    # a campaign shipped with its leaderboards, swept on a fresh clone without the runs
    import shutil

    tmp, suite = env
    runs, boards = tmp / "runs", tmp / "boards"
    first = sweep(suite, runs_dir=runs, leaderboards=boards, progress=False)
    shutil.rmtree(runs)
    plan_only = CliRunner().invoke(cli, ["sweep", str(suite), "--dry-run", "--runs-dir",
                                         str(runs), "--leaderboard-root", str(boards)])
    text = " ".join(plan_only.output.split())
    assert "on the leaderboard" in text, text
    assert "0 run(s) to do, 2 already done (2 of them only on the leaderboard)" in text
    again = sweep(suite, runs_dir=runs, leaderboards=boards, progress=False, publish=True)
    assert [o.status for o in again.outcomes] == ["already done", "already done"]
    assert [o.ua for o in again.outcomes] == [o.ua for o in first.outcomes]  # the entries'
    assert "retire its entry" in again.outcomes[0].message
    assert not (runs / first.outcomes[0].run_id).exists()  # nothing was run
    assert again.published == {"tiny-loso": 1}
    Leaderboard(boards, "tiny-loso").retire([first.outcomes[0].run_id], reason="re-run")
    last = sweep(suite, runs_dir=runs, leaderboards=boards, progress=False)
    assert [o.status for o in last.outcomes] == ["already done", "done"]
    assert (runs / first.outcomes[0].run_id / "record.json").is_file()

def test_a_run_the_leaderboard_refuses_is_reported_and_blocks_publish(env):
    # the board already holds another record under the run id (say, a run re-made after
    # its folder was deleted): the sweep goes on, names the run and does not publish
    tmp, suite = env
    runs, boards = tmp / "runs", tmp / "boards"
    first = sweep(suite, runs_dir=runs, leaderboards=boards, progress=False)
    held = boards / "tiny-loso" / "entries" / f"{first.outcomes[0].run_id}.json"
    entry = json.loads(held.read_text())
    entry["record_sha256"] = "0" * 64
    held.write_text(json.dumps(entry))
    result = CliRunner().invoke(cli, ["sweep", str(suite), "--runs-dir", str(runs),
                                      "--leaderboard-root", str(boards), "--publish", "-q"])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert f"run {first.outcomes[0].run_id} finished but was not added" in text
    assert "from a different record" in text and "not published" in text
    assert not (boards / "tiny-loso" / "published").exists()
    assert json.loads(held.read_text())["record_sha256"] == "0" * 64  # nothing overwritten


def _bad_run(run_id: str, model: str) -> PlannedRun:
    return PlannedRun(run_id=run_id, settings={"model": model, "seed": 0},
                      benchmark=Benchmark(corpus="synthetic"), leaderboard="x",
                      label=f"{model}/s0", resources=Resources())


def test_a_failing_run_does_not_stop_the_others(tmp_path, monkeypatch):
    monkeypatch.setenv("SERBENCH_RUNS", str(tmp_path / "runs"))
    folder = CampaignFolder(tmp_path / "runs", "broken")
    outcomes = run_local([_bad_run("a", "no_such_model"), _bad_run("b", "no_such_either")],
                         folder, workers=1)
    assert sorted(o.status for o in outcomes) == ["failed", "failed"]  # the second still ran
    for outcome in outcomes:
        assert outcome.log == folder.log_path(outcome.run_id)
        assert "unknown model" in outcome.log.read_text()
        assert outcome.message == "exit status 2"


def test_dry_run_prints_the_plan_and_runs_nothing(env):
    tmp, suite = env
    result = CliRunner().invoke(cli, ["sweep", str(suite), "--dry-run", "--runs-dir",
                                      str(tmp / "runs")])
    assert result.exit_code == 0, result.output + repr(result.exception)
    text = " ".join(result.output.split())
    assert "2 run(s) to do, 0 already done" in text and "no past run" in text
    assert not (tmp / "runs").exists()


TWO_ENTRIES = SUITE + """
[[models]]
name = "svm"
set = {{ C = 0.5 }}

[[models]]
name = "svm"
normalisation = "global"
"""


def test_only_runs_the_matching_part_and_names_every_row_apart(env):
    tmp, suite = env
    suite.write_text(TWO_ENTRIES.format(csv=tmp / "tiny" / "manifest.csv"))
    runs, boards = tmp / "runs", tmp / "boards"
    planned = sweep(suite, runs_dir=runs, leaderboards=boards, dry_run=True).runs
    labels = [r.label for r in planned]
    assert len(set(labels)) == len(labels) == 6  # two C values, global norm; two seeds
    # the entries that differ only in `set` carry their run id's hash; normalisation shows
    c_runs = [r for r in planned if "global" not in r.label]
    assert all(r.label == f"svm/manifest/s{r.seed}#{r.run_id.rsplit('-', 1)[1]}"
               for r in c_runs)
    assert [r.label for r in planned if "global" in r.label] == [
        "svm/manifest/global-norm/s0", "svm/manifest/global-norm/s1"]
    result = sweep(suite, runs_dir=runs, leaderboards=boards, progress=False, publish=True,
                   only=("*/global-norm/s1",))
    assert [(o.label, o.status) for o in result.outcomes] == [
        ("svm/manifest/global-norm/s1", "done")]
    assert sorted(p.name for p in runs.iterdir() if p.name != "campaigns") == [
        r.run_id for r in planned if r.label == "svm/manifest/global-norm/s1"]
    note = Leaderboard(boards, "tiny-loso").snapshot(1)["note"]
    assert "only the runs matching */global-norm/s1" in note and "1 run(s)" in note


def test_only_that_matches_nothing_lists_the_labels(env, capsys):
    from serbench.cli import main

    tmp, suite = env
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", str(suite), "--only", "mlp/*", "--runs-dir", str(tmp / "runs"),
              "--leaderboard-root", str(tmp / "boards")])
    assert exit_.value.code == 2
    text = " ".join(capsys.readouterr().err.split())
    assert "--only 'mlp/*' matches no run" in text and "svm/manifest/s0" in text
    assert not (tmp / "runs").exists()


def test_slurm_without_sbatch_stops_with_a_clear_message(env, monkeypatch):
    tmp, suite = env
    empty = tmp / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ConfigError, match="sbatch, squeue, scontrol not found on PATH"):
        sweep(suite, runs_dir=tmp / "runs", leaderboards=tmp / "boards", executor="slurm",
              progress=False)
    assert not (tmp / "runs").exists()


def test_a_job_that_cannot_see_the_runs_folder_names_it(tmp_path):
    from serbench.campaign.executors.slurm_job import RunsFolderNotShared, check_shared

    token = tmp_path / "runs" / "campaigns" / "c" / ".shared-token"
    token.parent.mkdir(parents=True)
    with pytest.raises(RunsFolderNotShared, match=str(tmp_path / "runs")):
        check_shared(str(token), "abc")  # missing: the node mounts nothing there
    token.write_text("another\n")
    with pytest.raises(RunsFolderNotShared, match="another file"):
        check_shared(str(token), "abc")  # another folder at the same path
    token.write_text("abc\n")
    check_shared(str(token), "abc")


@pytest.mark.slow
def test_done_when_two_models_two_seeds_on_the_synthetic_corpus(tmp_path, monkeypatch):
    """The issue's acceptance: svm and bilstm_att (1 epoch), seeds 0 and 1, synthetic."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    suite = tmp_path / "demo.toml"
    suite.write_text(Path(__file__).resolve().parent.joinpath("slurm", "small_suite.toml")
                     .read_text())
    runs, boards = tmp_path / "runs", tmp_path / "boards"
    result = sweep(suite, runs_dir=runs, leaderboards=boards, workers=2, progress=False)
    assert [o.status for o in result.outcomes] == ["done"] * 4
    groups = Leaderboard(boards, "synthetic-4class-loso").current()["summary"]["groups"]
    assert sorted(g["model"] for g in groups) == ["bilstm_att", "svm"]
    assert all(g["seeds"] == [0, 1] for g in groups)
    assert all(g["scores"]["ua"]["seed_std"] is not None for g in groups)
    second = next(g for g in groups if g["rank"] == 2)  # paired over 5 folds x 2 seeds
    assert (second["comparison"]["n_pairs"], second["comparison"]["pairing"]) == (10, "seed+fold")
    again = sweep(suite, runs_dir=runs, leaderboards=boards, progress=False)
    assert {o.status for o in again.outcomes} == {"already done"}


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell does for `cmd &`


@pytest.mark.slow  # about 15 s (time-limit: 40 s): process starts and a run that trains
@pytest.mark.parametrize(("signum", "background"),
                         [(signal.SIGINT, False), (signal.SIGTERM, False),
                          (signal.SIGTERM, True), (None, False)],
                         ids=["ctrl-c", "kill", "kill-background", "time-limit"])
def test_ctrl_c_stops_the_workers_and_the_same_command_resumes(env, signum, background):
    """SIGINT (Ctrl-C) or SIGTERM (kill, a scheduler) to `serbench sweep`, or its own
    `--time-limit` (signum None): the running run is stopped cleanly (exit 128 + signal,
    or 124 at the time limit; summary says interrupted; the worker itself reports the
    interrupt, so it was not killed after the grace period, also when the sweep was
    started in the background with SIGINT ignored), no worker is left running, and the
    next sweep plans to resume it. The background case passes without
    `serbench.cli.main`'s restore too (something the sweep loads re-installs a SIGINT
    handler at C level, so its workers start with the default one): the test below
    guards the restore itself."""
    tmp, suite = env
    text = suite.read_text()
    # minutes of training on the tiny corpus (hundreds of epochs a second), so the run is
    # still in its first fold when the signal or the time limit comes on a fast machine
    suite.write_text(text[:text.index("[[models]]")] + '[[models]]\nname = "bilstm_att"\n'
                     'max_epochs = 50000\n'
                     'set = { hidden = 8, batch_size = 8, patience = 50000 }\nseeds = [0]\n')
    runs = tmp / "runs"
    command = [sys.executable, "-m", "serbench", "sweep", str(suite), "--runs-dir", str(runs),
               "--leaderboard-root", str(tmp / "boards"), "-q"]
    limit = [] if signum else ["--time-limit", "40s"]  # the run trains well before then
    proc = subprocess.Popen(command + limit, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True,
                            preexec_fn=_ignore_sigint if background else None,
                            env={**os.environ, "COLUMNS": "250"})  # rich: no truncation
    deadline = time.monotonic() + 120  # until the run has started training
    while time.monotonic() < deadline and not list(runs.glob("bilstm_att-*/config.json")):
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.3)
    time.sleep(2)
    if signum:
        os.kill(proc.pid, signum)
    output, _ = proc.communicate(timeout=120)
    text = " ".join(output.split())
    assert proc.returncode == (128 + signum if signum else 124), output
    workers = subprocess.run(["pgrep", "-f", str(tmp / "runs" / "campaigns")],
                             capture_output=True, text=True).stdout.split()
    assert not workers, f"worker processes left running: {workers}"
    assert re.search(r"bilstm_att/manifest/s0 │ interrupted", text), output
    assert "run the same command to resume" in text
    if not signum:
        assert "stopped (the sweep's time limit)" in text, output
        assert "Stopped at the time limit (40s)" in text, output
    (log,) = runs.glob("campaigns/*/logs/bilstm_att-*.log")
    assert "Run interrupted after 0 of" in log.read_text(encoding="utf-8"), log.read_text()
    (folder,) = runs.glob("bilstm_att-*")
    assert not (folder / "record.json").exists()
    plan = CliRunner().invoke(cli, [*command[3:], "--dry-run"])
    assert "to do (resume)" in plan.output


@pytest.mark.parametrize("worker", [True, False], ids=["campaign-worker", "plain"])
def test_a_campaign_worker_hears_sigint_that_its_parent_ignored(worker):
    """A sweep started with `&` hands its workers an ignored SIGINT, yet stops them with
    SIGINT: `serbench` restores the Ctrl-C handler in campaign workers (the executor's
    environment variable) and leaves other processes' choice alone."""
    from serbench.cli import CAMPAIGN_WORKER_ENV

    code = ("import signal, serbench.cli as c\n"
            "try:\n    c.main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)")
    env = {k: v for k, v in os.environ.items() if k != CAMPAIGN_WORKER_ENV}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, CAMPAIGN_WORKER_ENV: "1"} if worker else env,
                          preexec_fn=_ignore_sigint, check=True)
    assert done.stdout.split()[-1] == str(worker), done.stdout + done.stderr


def test_a_time_limit_stops_the_local_workers_and_says_why(tmp_path, monkeypatch):
    """A KeyboardInterrupt from the poll callback (the sweep's time limit) stops running
    workers as Ctrl-C does, and their outcomes name the cause."""
    import serbench.campaign.executors.local as local
    from serbench.campaign.executors.local import CampaignInterrupted
    from serbench.campaign.sweep import TimeLimitReached

    monkeypatch.setattr(local, "run_command", lambda config, threads, resume: [
        sys.executable, "-c", "import time; time.sleep(120)"])
    run = PlannedRun(run_id="a", settings={"model": "svm", "seed": 0},
                     benchmark=Benchmark(corpus="synthetic"), leaderboard="x", label="a/s0",
                     resources=Resources())
    polls: list[int] = []

    def poll() -> None:
        polls.append(1)
        if len(polls) == 3:
            raise TimeLimitReached(1.0)

    started = time.monotonic()
    with pytest.raises(CampaignInterrupted) as info:
        run_local([run], CampaignFolder(tmp_path / "runs", "c"), on_poll=poll, poll_s=0.05)
    (outcome,) = info.value.outcomes
    assert outcome.status == "interrupted"
    assert outcome.message == "stopped (the sweep's time limit); sweep resumes it"
    assert time.monotonic() - started < 30  # SIGINT ended the sleep, no grace-period kill


def test_the_time_limit_counts_from_the_start_of_the_sweep(env, monkeypatch):
    """Within the limit the sweep goes on; once it has passed, the next poll stops it.
    The sweep's clock is a fake one the test moves."""
    from types import SimpleNamespace

    import serbench.campaign.sweep as sweep_module
    from serbench.campaign.sweep import SweepInterrupted

    tmp, suite = env
    clock, calls = [1000.0], []
    monkeypatch.setattr(sweep_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))

    def polls_as_time_passes(executor, todo, folder, suite, workers, wait, bar, finished,
                             poll):
        for elapsed in (0.0, 59.0, 60.0, 61.0):  # the limit below is 60 s
            clock[0] = 1000.0 + elapsed
            poll()
            calls.append(elapsed)
        return []

    monkeypatch.setattr(sweep_module, "_execute", polls_as_time_passes)
    with pytest.raises(SweepInterrupted) as info:
        sweep(suite, runs_dir=tmp / "runs", leaderboards=tmp / "boards", progress=False,
              time_limit_s=60)
    assert calls == [0.0, 59.0]
    assert info.value.result.timed_out and info.value.result.interrupted
    calls.clear()
    result = sweep(suite, runs_dir=tmp / "runs", leaderboards=tmp / "boards",
                   progress=False)  # no limit
    assert calls == [0.0, 59.0, 60.0, 61.0] and not result.timed_out


@pytest.mark.parametrize("value", ["abc", "0", "10x"])
def test_a_bad_time_limit_is_refused_before_anything_runs(env, value):
    tmp, suite = env
    result = CliRunner().invoke(cli, ["sweep", str(suite), "--time-limit", value,
                                      "--runs-dir", str(tmp / "runs")])
    assert result.exit_code == 2, result.output
    assert "--time-limit" in result.output and repr(value) in result.output
    assert not (tmp / "runs").exists()
