"""A real one-node Slurm cluster on this machine for the ``slurm`` tests (``tox -e slurm``).

The session fixture installs Debian's ``slurm-wlm`` and ``munge`` when they are missing
(root; ``apt-get update`` first), creates the munge key when there is none, starts
``munged`` unless one answers already, writes a ``slurm.conf`` for this host (its real
CPUs and memory; ``proctrack/linuxproc``, ``task/none``, ``select/cons_tres``,
``auth/munge``, no accounting) in a temporary folder, points ``SLURM_CONF`` at it, starts
``slurmctld`` and ``slurmd`` as root and waits until ``sinfo`` shows the node idle. At
the end it stops the daemons it started (by their pid files) and removes the folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

DAEMONS = ("slurmctld", "slurmd")


def _run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def _install() -> None:
    if all(shutil.which(p) for p in ("slurmctld", "slurmd", "sbatch", "munged")):
        return
    if os.geteuid() != 0:
        pytest.skip("Slurm is not installed and installing it needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run("apt-get", "update", env=env)
    _run("apt-get", "install", "-y", "slurm-wlm", "munge", env=env)


def _munge_answers() -> bool:
    encode = subprocess.run(["munge", "-n"], capture_output=True)
    if encode.returncode != 0:
        return False
    return subprocess.run(["unmunge"], input=encode.stdout, capture_output=True).returncode == 0


def _start_munge() -> int | None:
    """Start munged unless one answers; its pid when this fixture started it."""
    if _munge_answers():
        return None
    key = Path("/etc/munge/munge.key")
    if not key.is_file():
        _run("mungekey", "--create", "--keyfile", str(key))
        shutil.chown(key, "munge", "munge")
        key.chmod(0o600)
    run_dir = Path("/run/munge")
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(run_dir, "munge", "munge")
    _run("runuser", "-u", "munge", "--", "munged")
    _wait(_munge_answers, 20, "munged answers")
    pid_file = run_dir / "munged.pid"
    return int(pid_file.read_text()) if pid_file.is_file() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def write_conf(base: Path, host: str) -> Path:
    """A slurm.conf for a one-node cluster on ``host`` with state and logs under ``base``."""
    conf = base / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=serbench-test",
        f"SlurmctldHost={host}",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "SchedulerType=sched/backfill",
        "MpiDefault=none",
        "ReturnToService=2",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        f"StateSaveLocation={base / 'state'}",
        f"SlurmdSpoolDir={base / 'spool'}",
        f"SlurmctldPidFile={base / 'slurmctld.pid'}",
        f"SlurmdPidFile={base / 'slurmd.pid'}",
        f"SlurmctldLogFile={base / 'slurmctld.log'}",
        f"SlurmdLogFile={base / 'slurmd.log'}",
        "SlurmctldTimeout=30",
        "SlurmdTimeout=30",
        "InactiveLimit=0",
        "MinJobAge=300",
        f"NodeName={host} CPUs={os.cpu_count()} RealMemory={int(_memory_mb() * 0.9)} "
        "State=UNKNOWN",
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "",
    ]))
    for sub in ("state", "spool"):
        (base / sub).mkdir()
    return conf


def _wait(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting until {what}")


def _node_idle() -> bool:
    out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.strip() == "idle"


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[Path]:
    """A running one-node cluster; yields the folder holding its slurm.conf and logs."""
    if os.geteuid() != 0:
        pytest.skip("starting slurmctld/slurmd for the test cluster needs root")
    _install()
    munge_pid = _start_munge()
    base = Path(tempfile.mkdtemp(prefix="serbench-slurm-"))
    host = socket.gethostname().split(".")[0]
    conf = write_conf(base, host)
    old_conf = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    try:
        _run("slurmctld", "-c")  # -c: a clean state, no jobs of an earlier cluster
        _run("slurmd")
        try:
            _wait(_node_idle, 60, "sinfo shows the node idle")
        except AssertionError:
            logs = "\n".join((base / f"{d}.log").read_text(errors="replace")[-2000:]
                             for d in DAEMONS if (base / f"{d}.log").is_file())
            raise AssertionError(f"the test Slurm node did not become idle:\n{logs}") from None
        yield base
    finally:
        for daemon in DAEMONS:
            pid_file = base / f"{daemon}.pid"
            if pid_file.is_file():
                try:
                    os.kill(int(pid_file.read_text()), signal.SIGTERM)
                except (ProcessLookupError, ValueError):
                    pass
        if munge_pid is not None:
            try:
                os.kill(munge_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if old_conf is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old_conf
        time.sleep(1)
        shutil.rmtree(base, ignore_errors=True)
