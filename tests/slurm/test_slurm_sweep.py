"""The issue's small campaign through ``--executor slurm`` on a real one-node Slurm
(``tox -e slurm``; the cluster comes from ``conftest.py``).

One test, in the order a user meets it: submit without waiting (squeue shows one named
task per run), cancel one queued task, sweep again (the live jobs are not submitted
twice, the cancelled one is reported and resubmitted, every record is read back into the
leaderboard), and a third sweep finds everything done.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
from pathlib import Path

import pytest
from rich.console import Console

from serbench.campaign.sweep import sweep
from serbench.leaderboard.store import Leaderboard

pytestmark = pytest.mark.slurm

SUITE = Path(__file__).resolve().parent / "small_suite.toml"


def _squeue() -> dict[str, tuple[str, str]]:
    out = subprocess.run(["squeue", "-h", "-o", "%i|%j|%T"], capture_output=True, text=True,
                         check=True).stdout
    return {i: (name, state) for i, name, state in
            (line.split("|") for line in out.splitlines() if line.strip())}


def test_small_suite_through_slurm_with_a_cancelled_job(slurm_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    runs, boards = tmp_path / "runs", tmp_path / "boards"
    first = sweep(SUITE, runs_dir=runs, leaderboards=boards, executor="slurm", wait=False,
                  progress=False)
    assert [o.status for o in first.outcomes] == ["queued"] * 4
    jobs = json.loads((runs / "campaigns" / "small" / "slurm_jobs.json").read_text())
    queue = _squeue()
    labels = {job["label"] for job in jobs.values()}
    assert labels == {"svm/synthetic/s0", "svm/synthetic/s1", "bilstm_att/synthetic/s0",
                      "bilstm_att/synthetic/s1"}
    named = {queue[j["job_id"]][0] for j in jobs.values() if j["job_id"] in queue}
    assert named and named <= labels  # squeue shows model/variant/corpus/seed
    # cancel the last task while it waits for a CPU (2 CPUs, 4 one-CPU tasks)
    victim = max(jobs.values(), key=lambda j: int(j["job_id"].split("_")[1]))
    subprocess.run(["scancel", victim["job_id"]], check=True)
    deadline = time.monotonic() + 30
    while victim["job_id"] in _squeue() and time.monotonic() < deadline:
        time.sleep(0.5)

    text = io.StringIO()
    second = sweep(SUITE, runs_dir=runs, leaderboards=boards, executor="slurm",
                   console=Console(file=text, width=300), publish=True)
    messages = text.getvalue()
    assert f"job {victim['job_id']} ended without a record" in messages
    assert "submitting it again" in messages
    assert sorted(o.status for o in second.outcomes) == ["done"] * 4, second.outcomes
    resubmitted = json.loads((runs / "campaigns" / "small" / "slurm_jobs.json").read_text())
    assert sum(j["job_id"] != jobs[r]["job_id"] for r, j in resubmitted.items()) == 1
    for outcome in second.outcomes:
        record = json.loads((runs / outcome.run_id / "record.json").read_text())
        assert outcome.ua == record["aggregate"]["pooled"]["ua"]
    groups = Leaderboard(boards, "synthetic-4class-loso").current()["summary"]["groups"]
    assert sorted(g["model"] for g in groups) == ["bilstm_att", "svm"]
    assert all(g["seeds"] == [0, 1] for g in groups)
    assert second.published == {"synthetic-4class-loso": 1}

    third = sweep(SUITE, runs_dir=runs, leaderboards=boards, executor="slurm", progress=False)
    assert {o.status for o in third.outcomes} == {"already done"}


def test_a_failing_job_is_reported_with_its_log(slurm_cluster, tmp_path):
    """A run that fails on the node: the sweep reports it with the job's log."""
    from serbench.campaign.executors.slurm import run_slurm
    from serbench.campaign.outcome import CampaignFolder
    from serbench.campaign.plan import PlannedRun
    from serbench.campaign.suite import Benchmark, Resources

    run = PlannedRun(run_id="broken", settings={"model": "no_such_model", "seed": 0},
                     benchmark=Benchmark(corpus="synthetic"), leaderboard="x",
                     label="no_such_model/s0", resources=Resources(time_min=5))
    (outcome,) = run_slurm([run], CampaignFolder(tmp_path / "runs", "broken"),
                           campaign="broken", poll_s=0.5)
    assert outcome.status == "failed"
    assert "exited with status 2" in outcome.message
    assert "unknown model 'no_such_model'" in outcome.log.read_text()
