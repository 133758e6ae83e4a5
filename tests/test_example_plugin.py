"""The plugin guide's example (tests/example_plugin/) installs and runs, so docs/plugins.md
can never drift from what works.

It is pip-installed (editable, from a copy under tmp_path so nothing is written into the
repository) into the running interpreter, checked in fresh processes (entry points are
read at start-up), and uninstalled afterwards.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent / "example_plugin"
DIST = "serbench-example-mlp"


def _run(args, env, cwd=None, timeout=240):
    out = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{args} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def _pip(*args, env):
    return _run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], env)


def test_guide_snippets_are_the_example_files():
    guide = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
    for rel in ("pyproject.toml", "serbench_example_mlp/plugin.py",
                "serbench_example_mlp/model.py", "tests/test_example_mlp.py"):
        assert (EXAMPLE / rel).read_text().strip() in guide, f"docs/plugins.md is out of date with {rel}"


def test_installed_example_plugin_registers_passes_conformance_and_runs(tmp_path, tiny_corpus):
    if shutil.which("serbench") is None and not (Path(sys.executable).parent / "serbench").exists():
        pytest.fail("the serbench console script is not installed in this environment")
    source = tmp_path / "example_plugin"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    _pip("install", "--no-deps", "--no-build-isolation", "-e", str(source), env=env)
    try:
        listed = _run([sys.executable, "-c",
                       "from serbench.plugins import get_registry; r = get_registry(); "
                       "e = r.lookup('model', 'example_mlp'); print(e.distribution, e.plugin)"], env)
        assert listed.split() == [DIST, "example_mlp"]
        # The plugin's own test suite (serbench's conformance test) passes.
        _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], env, cwd=source)
        # And it runs through `serbench run` like any built-in model.
        serbench = str(Path(sys.executable).parent / "serbench")
        _run([serbench, "run", "--model", "example_mlp", "--corpus", "manifest",
              "--data", str(tiny_corpus), "--protocol", "loso-speaker", "--max-epochs", "2",
              "--device", "cpu", "--quiet"], env, timeout=400)
        records = list(Path(os.environ["SERBENCH_RUNS"]).glob("*/record.json"))
        assert len(records) == 1, records
        record = json.loads(records[0].read_text())
        assert record["model"]["name"] == "example_mlp"
        assert record["model"]["distribution"] == DIST
        assert len(record["folds"]) == 4
        assert 0.0 <= record["aggregate"]["pooled"]["ua"] <= 1.0
    finally:
        _pip("uninstall", "-y", DIST, env=env)
    gone = subprocess.run([sys.executable, "-c", "import importlib.metadata as m; m.distribution('serbench-example-mlp')"],
                          capture_output=True)
    assert gone.returncode != 0
