"""The campaigns shipped under ``leaderboards/``: their suites still name what is
registered, and the folds shipped for unfinished runs (``<board>/partial/``) can still
complete them."""

from __future__ import annotations

from pathlib import Path

import pytest

from serbench.campaign.shipped import PARTIAL_DIR
from serbench.campaign.suite import load_suite
from serbench.plugins import get_registry
from serbench.run.folder import RunFolder

LEADERBOARDS = Path(__file__).resolve().parents[1] / "leaderboards"
SUITES = sorted((LEADERBOARDS / "suites").glob("*.toml"))
SHIPPED = sorted(p for p in LEADERBOARDS.glob(f"*/{PARTIAL_DIR}/*") if p.is_dir())


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_a_shipped_suite_names_only_registered_parts(path: Path) -> None:
    suite = load_suite(path, get_registry())  # a SuiteError lists every unknown name
    assert suite.models and suite.benchmarks


def test_there_are_shipped_suites() -> None:
    assert {p.stem for p in SUITES} >= {"demo", "nemo"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_folds_can_still_complete_their_run(path: Path) -> None:
    folder = RunFolder(path)
    board = path.parents[1]
    identity = folder.read_config()["identity"]
    assert folder.read_config()["run_id"] == path.name
    folds = folder.completed_folds()
    assert folds, f"{path}: no finished fold; delete the folder"
    assert sorted(p.stem for p in folder.folds_dir.glob("*.json")) == sorted(folds), \
        f"{path}: a fold JSON without its predictions"
    model = identity["model"]
    installed = get_registry().model(model["name"]).version
    assert model["version"] == installed, (
        f"{path}: shipped folds of {model['name']} v{model['version']}, but v{installed} "
        "is installed: the run can never resume; delete the folder")
    entry = board / "entries" / f"{path.name}.json"
    assert not entry.is_file(), f"{path}: the run is on the board already; delete the folder"
    assert all(fold["metrics"].get("ua") is not None for fold in folds.values())
