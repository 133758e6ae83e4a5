"""The Slurm executor: one job array per campaign (per resource set), through submitit.

Each run becomes one array task that runs :func:`~serbench.campaign.executors.slurm_job.run_on_node`
(``serbench run --config`` on the compute node) with the suite's resources for its
model: CPUs (also the torch threads), GPUs, memory, time limit, partition and extra
``sbatch`` options. The array is submitted held, each task is renamed
``model/variant/corpus/s<seed>`` (what ``squeue`` shows), then released. Job ids go to
``slurm_jobs.json`` in the campaign folder and logs to ``slurm/`` (submitit's per-job
``.out``/``.err``). Results are read back from the shared runs folder. A run whose
previous job is still queued or running is not submitted again; one whose job ended
without a record (failed, cancelled, timed out) is reported and submitted again.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from serbench.campaign.outcome import CampaignFolder, Outcome, read_outcome
from serbench.campaign.plan import PlannedRun
from serbench.campaign.suite import Resources
from serbench.errors import ConfigError

TOKEN_NAME = ".shared-token"


def require_sbatch() -> None:
    """Raise a ConfigError unless Slurm's client commands are on PATH."""
    missing = [c for c in ("sbatch", "squeue", "scontrol") if shutil.which(c) is None]
    if missing:
        raise ConfigError(
            f"--executor slurm: {', '.join(missing)} not found on PATH. Run the sweep on a "
            "Slurm login node (where sbatch works), or use --executor local.")


def live_jobs(job_ids: Sequence[str]) -> dict[str, str]:
    """Job id -> state (PENDING, RUNNING, ...) of those of ``job_ids`` Slurm still lists."""
    if not job_ids:
        return {}
    out = subprocess.run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(job_ids)],
                         capture_output=True, text=True)
    # squeue exits non-zero when none of the ids is known any more
    states = dict(line.split(maxsplit=1) for line in out.stdout.splitlines() if line.strip())
    return {job: states[job] for job in job_ids if job in states}


def sbatch_parameters(resources: Resources, name: str) -> dict[str, Any]:
    """submitit's SlurmExecutor parameters for runs with these resources."""
    extra: dict[str, Any] = {"hold": True}
    for option in resources.sbatch:
        key, sep, value = option[2:].partition("=")
        extra[key] = value if sep else True
    params: dict[str, Any] = {
        "job_name": name, "cpus_per_task": resources.cpus, "time": resources.time_min,
        "additional_parameters": extra, "stderr_to_stdout": False,
    }
    if resources.gpus:
        params["gpus_per_node"] = resources.gpus
    if resources.mem_gb is not None:
        params["mem"] = resources.mem_gb
    if resources.partition:
        params["partition"] = resources.partition
    return params


def _submit(runs: Sequence[PlannedRun], folder: CampaignFolder, campaign: str,
            token: str) -> dict[str, dict[str, Any]]:
    """Submit ``runs`` as held arrays (one per resource set), name and release the tasks;
    returns run id -> ``{"job_id", "log", "label"}``."""
    import submitit

    from serbench.campaign.executors.slurm_job import run_on_node

    token_path = folder.root / TOKEN_NAME
    by_resources: dict[Resources, list[PlannedRun]] = {}
    for run in runs:
        by_resources.setdefault(run.resources, []).append(run)
    jobs: dict[str, dict[str, Any]] = {}
    for resources, group in by_resources.items():
        executor = submitit.SlurmExecutor(folder=str(folder.slurm_dir / "%j"))
        executor.update_parameters(**sbatch_parameters(resources, f"serbench:{campaign}"))
        with executor.batch():
            submitted = [executor.submit(run_on_node, str(folder.write_config(r.run_id, r.settings)),
                                         str(token_path), token, resources.cpus,
                                         r.status == "partial")
                         for r in group]
        for run, job in zip(group, submitted, strict=True):
            subprocess.run(["scontrol", "update", f"JobId={job.job_id}",
                            f"JobName={run.label}"], capture_output=True)
            jobs[run.run_id] = {"job_id": str(job.job_id), "log": str(job.paths.stderr),
                                "label": run.label}
        array_id = str(submitted[0].job_id).split("_")[0]
        subprocess.run(["scontrol", "release", array_id], capture_output=True, check=True)
    return jobs


def run_slurm(runs: Sequence[PlannedRun], folder: CampaignFolder, *, campaign: str,
              wait: bool = True, on_start: Callable[[PlannedRun], None] = lambda run: None,
              on_finish: Callable[[Outcome], None] = lambda outcome: None,
              on_message: Callable[[str], None] = lambda text: None,
              on_poll: Callable[[], None] = lambda: None,
              poll_s: float = 2.0) -> list[Outcome]:
    """Submit the runs not already queued, then (``wait``) follow every job to its end,
    calling ``on_poll`` at each look at the queue.

    Raises:
        ConfigError: no Slurm client commands on PATH.
    """
    require_sbatch()
    folder.root.mkdir(parents=True, exist_ok=True)
    token = _token(folder.root / TOKEN_NAME)
    previous = folder.read_jobs()
    still = live_jobs([previous[r.run_id]["job_id"] for r in runs if r.run_id in previous])
    waiting: dict[str, dict[str, Any]] = {}
    to_submit = []
    for run in runs:
        job = previous.get(run.run_id)
        if job is not None and job["job_id"] in still:
            on_message(f"{run.label}: job {job['job_id']} is {still[job['job_id']]}; "
                       "not submitted again")
            waiting[run.run_id] = job
            continue
        if job is not None:
            on_message(f"{run.label}: job {job['job_id']} ended without a record (failed or "
                       f"cancelled; log {job['log']}); submitting it again")
        to_submit.append(run)
    if to_submit:
        submitted = _submit(to_submit, folder, campaign, token)
        waiting.update(submitted)
        folder.write_jobs({**previous, **submitted})
        for run in to_submit:
            on_start(run)
    if not wait:
        return [Outcome(run_id, job["label"], "queued", log=Path(job["log"]),
                        message=f"Slurm job {job['job_id']}") for run_id, job in waiting.items()]
    return _follow(waiting, folder, on_finish, on_poll, poll_s)


def _token(path: Path) -> str:
    """The campaign's shared-folder token: made once, so jobs queued by an earlier sweep
    still find the token they were given."""
    if path.is_file():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    token = secrets.token_hex(16)
    path.write_text(token + "\n", encoding="utf-8")
    return token


def _follow(waiting: dict[str, dict[str, Any]], folder: CampaignFolder,
            on_finish: Callable[[Outcome], None], on_poll: Callable[[], None],
            poll_s: float) -> list[Outcome]:
    """Poll squeue until every job has left it; read each run's record back."""
    outcomes: list[Outcome] = []
    started = time.monotonic()
    while waiting:
        time.sleep(poll_s)
        on_poll()
        alive = live_jobs([job["job_id"] for job in waiting.values()])
        for run_id, job in list(waiting.items()):
            if job["job_id"] in alive:
                continue
            del waiting[run_id]
            outcome = read_outcome(folder.runs_dir, run_id, job["label"], log=Path(job["log"]),
                                   seconds=time.monotonic() - started,
                                   failed_message=_last_error(Path(job["log"]), job["job_id"]))
            outcomes.append(outcome)
            on_finish(outcome)
    return outcomes


def _last_error(log: Path, job_id: str) -> str:
    """The exception that ended a job (the last ``...Error: ...`` line of its stderr, e.g.
    the run's exit status or an unshared runs folder), else its last line."""
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return f"Slurm job {job_id} ended without a record and without a log (cancelled?)"
    errors = [ln for ln in lines if re.match(r"^[\w.]+(Error|Exception|NotShared): ", ln)]
    line = (errors or lines or [""])[-1]
    return f"Slurm job {job_id}: {line[:400]}" if line else \
        f"Slurm job {job_id} ended without a record (cancelled?)"
