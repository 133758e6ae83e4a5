"""What a Slurm job of a campaign runs on its compute node (pickled by submitit).

The job first checks that it sees the campaign's runs folder: the submitting process
wrote a token file there, and a node that mounts another folder at the same path (or
none) would otherwise write its results where nobody reads them. Then it runs the same
``serbench run --config`` as the local executor, with the job's CPUs as torch threads.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


class RunsFolderNotShared(RuntimeError):
    """The compute node does not see the submitting machine's runs folder."""


def check_shared(token_path: str, token: str) -> None:
    """Raise :class:`RunsFolderNotShared` unless ``token_path`` holds ``token``."""
    path = Path(token_path)
    try:
        seen = path.read_text(encoding="utf-8").strip()
    except OSError:
        seen = None
    if seen != token:
        runs = path.parents[2]  # <runs>/campaigns/<name>/.shared-token
        raise RunsFolderNotShared(
            f"node {socket.gethostname()} cannot see the runs folder {runs} written by the "
            f"submitting machine ({path} is {'missing' if seen is None else 'another file'}). "
            "Put the runs folder on a file system the compute nodes mount at the same path "
            "(sweep --runs-dir or SERBENCH_RUNS) and run the sweep again.")


def run_on_node(config: str, token_path: str, token: str, threads: int, resume: bool) -> int:
    """Run one campaign run inside a Slurm job; returns ``serbench run``'s exit status.

    Raises:
        RunsFolderNotShared: the node does not see the runs folder.
        RuntimeError: the run failed (its output is in this job's log).
    """
    check_shared(token_path, token)
    command = [sys.executable, "-m", "serbench", "run", "--config", config, "--quiet",
               "--threads", str(threads)] + (["--resume"] if resume else [])
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    code = subprocess.run(command, env=env, stdin=subprocess.DEVNULL).returncode
    if code != 0:
        raise RuntimeError(f"serbench run --config {config} exited with status {code}")
    return code
