"""The issue's "done when": two real runs on the synthetic corpus, added, published twice.

Slow (it trains two models and extracts features): ``tox -e slow``. When Debian's
chromium is installed, the published page is also opened in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def serbench(*args: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "serbench", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"serbench {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def test_two_models_added_published_and_republished(tmp_path: Path) -> None:
    env = {**os.environ, "SERBENCH_DATA": str(tmp_path / "data"),
           "SERBENCH_CACHE": str(tmp_path / "cache"), "SERBENCH_RUNS": str(tmp_path / "runs"),
           "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    serbench("run", "--model", "svm", env=env, cwd=tmp_path)
    serbench("run", "--model", "bilstm_att", "--max-epochs", "1", env=env, cwd=tmp_path)
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2
    added = serbench("leaderboard", "add", *map(str, runs), env=env, cwd=tmp_path)
    benchmark = re.search(r"added to (\S+)", added).group(1)
    shown = serbench("leaderboard", "show", benchmark, env=env, cwd=tmp_path)
    assert "svm" in shown and "bilstm_att" in shown
    serbench("leaderboard", "publish", benchmark, env=env, cwd=tmp_path)
    published = tmp_path / "leaderboards" / benchmark / "published"
    v1 = {p.name: p.read_bytes() for p in published.iterdir()}
    assert set(v1) == {"v1.json", "v1.md", "v1.html"}
    snap = json.loads(v1["v1.json"])
    rows = snap["summary"]["groups"]
    assert {g["model"] for g in rows} == {"svm", "bilstm_att"}
    for g in rows:
        assert g["timing"]["inference_latency_ms"] > 0 and g["timing"]["n_parameters"] > 0
        assert g["timing"]["clock"] in {"cpu_monotonic", "cuda_events"}
    serbench("leaderboard", "publish", benchmark, env=env, cwd=tmp_path)
    assert {p.name: p.read_bytes() for p in published.iterdir() if p.stem == "v1"} == v1
    assert (published / "v2.html").is_file()

    chromium = shutil.which("chromium")
    if chromium:
        done = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
             "--dump-dom", (published / "v1.html").as_uri()],
            capture_output=True, text=True, timeout=120)
        dom = done.stdout
        assert dom.count('<tr id="row-') == 2 and "svm v" in dom and "bilstm_att v" in dom
        assert "ms/utt" in dom.replace("Latency ms/utt", "ms/utt")
