"""What a record says about where it ran: git commit, library versions, file writes."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from serbench.run.environment import git_commit, library_versions
from serbench.run.folder import atomic_write_json, describe_differences


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_commit_of_a_repository_and_none_elsewhere(tmp_path):
    assert git_commit(tmp_path) is None
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "f.txt").write_text("x")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "m"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
    assert git_commit(repo) == head and len(head) == 40


def test_library_versions_name_the_documented_libraries():
    versions = library_versions()
    for name in ("python", "torch", "numpy", "polars", "scikit-learn", "opensmile", "optuna"):
        assert versions[name], name


def test_atomic_json_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "folds" / "a.json"
    atomic_write_json(target, {"x": 1})
    atomic_write_json(target, {"x": 2})
    assert json.loads(target.read_text()) == {"x": 2}
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]
    with pytest.raises(TypeError):
        atomic_write_json(target, {1j: 1})  # JSON cannot hold a complex key
    assert json.loads(target.read_text()) == {"x": 2}  # a failed write keeps the old file
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_differences_are_listed_by_path():
    old = {"hyperparameters": {"lr": 0.001, "hidden": 8}, "seed": 0}
    new = {"hyperparameters": {"lr": 0.01, "hidden": 8}, "seed": 1, "extra": True}
    assert describe_differences(old, new) == [
        "extra: (absent) -> true", "hyperparameters.lr: 0.001 -> 0.01", "seed: 0 -> 1"]
