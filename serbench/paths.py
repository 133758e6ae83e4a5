"""Where serbench keeps data, caches and runs.

- ``SERBENCH_DATA``: corpora (one folder per corpus name); default: the per-user data dir.
- ``SERBENCH_CACHE``: feature caches; default: the per-user cache dir.
- ``SERBENCH_RUNS``: run folders; default: ``./runs``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """Root folder for corpora: ``$SERBENCH_DATA`` or the per-user data folder."""
    env = os.environ.get("SERBENCH_DATA")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("serbench"))


def corpus_dir(name: str) -> Path:
    """Default folder of corpus ``name``: ``data_dir() / name``."""
    return data_dir() / name


def cache_dir() -> Path:
    """Root folder for feature caches: ``$SERBENCH_CACHE`` or the per-user cache folder."""
    env = os.environ.get("SERBENCH_CACHE")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("serbench"))


def runs_dir() -> Path:
    """Root folder for run records: ``$SERBENCH_RUNS`` or ``./runs``."""
    env = os.environ.get("SERBENCH_RUNS")
    return Path(env).expanduser() if env else Path.cwd() / "runs"
