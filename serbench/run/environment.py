"""Where a run ran: library versions, the git commit, the command line."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

#: distributions whose versions every record lists (``None`` when not installed)
LIBRARIES = ("torch", "numpy", "polars", "scikit-learn", "opensmile", "optuna", "scipy",
             "soxr", "pluggy")


def library_versions() -> dict[str, str | None]:
    """``{"python": ..., "torch": ..., ...}`` from installed distribution metadata."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if "torch" in sys.modules:  # the local build tag (e.g. "+cpu") is only known at runtime
        out["torch"] = sys.modules["torch"].__version__
    return out


def serbench_version() -> str:
    try:
        return metadata.version("serbench")
    except metadata.PackageNotFoundError:
        return "unknown"


def git_commit(cwd: Path | None = None) -> str | None:
    """``git rev-parse HEAD`` in ``cwd`` (default: the current folder); None outside a
    repository or without git."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd or Path.cwd(), capture_output=True,
            text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


def command_line() -> list[str]:
    """The command as typed: ``["serbench", "run", ...]`` when run from the console script."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name in {"serbench", "__main__.py"}:
        return ["serbench", *argv[1:]]
    return argv
