"""pytest plugin (entry point ``pytest11``): serbench's fixtures for plugin authors.

Must stay light to import: it is loaded by every pytest run in an environment where
serbench is installed, so torch and polars are imported only inside fixtures.

Fixtures:
    serbench_env: points ``SERBENCH_DATA``, ``SERBENCH_CACHE`` and ``SERBENCH_RUNS`` at
        folders under the test's ``tmp_path`` (nothing is written to the user's home).
    plugin_manager_factory: ``make(*plugins, load_entry_points=False)`` builds a fresh
        plugin manager holding the given plugin modules/objects (or ``(name, plugin)``
        pairs); ``serbench.plugins.Registry(pm)`` turns it into a registry.
    tiny_corpus: a tiny corpus written under ``tmp_path`` by
        :func:`serbench.testing.corpora.write_tiny_corpus` (what it returns).
    dummy_model_spec: a :class:`~serbench.components.ModelSpec` for
        :mod:`serbench.testing.dummy`, a mean-pooling linear model.
    rnn_loop: parametrised over ``"compiled"`` and ``"aten"``, the two loops behind
        :mod:`serbench.nn.fast_rnn`'s fast paths, so a test using it runs against both.
        ``"compiled"`` must build on a machine with a C++ compiler (skipped without one).

The model conformance test lives in :mod:`serbench.testing.conformance`.

The kit runs under pytest, which comes with serbench's ``test`` extra
(``pip install 'serbench[test]'``, with pytest-benchmark for serbench's own speed suite).
Without pytest-benchmark, ``--benchmark-skip`` (in serbench's pytest configuration) is
still accepted and tests that use its ``benchmark`` fixture are skipped, saying why,
instead of pytest stopping at an unknown option.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

#: how to get what the kit needs
INSTALL_HINT = "pip install 'serbench[test]'"


def _benchmark_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("pytest_benchmark") is not None


def pytest_addoption(parser: pytest.Parser) -> None:
    """Accept ``--benchmark-skip`` when pytest-benchmark (which defines it) is missing."""
    if not _benchmark_installed():
        parser.getgroup("serbench").addoption(
            "--benchmark-skip", action="store_true", default=False,
            help=f"pytest-benchmark is not installed: benchmark tests are skipped ({INSTALL_HINT})")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests needing pytest-benchmark's ``benchmark`` fixture when it is missing."""
    if _benchmark_installed():
        return
    skip = pytest.mark.skip(reason=f"pytest-benchmark is not installed ({INSTALL_HINT})")
    for item in items:
        if "benchmark" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture
def serbench_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """SERBENCH_DATA/CACHE/RUNS under ``tmp_path``; returns the three folders."""
    folders = {}
    for var, sub in (
        ("SERBENCH_DATA", "data"),
        ("SERBENCH_CACHE", "cache"),
        ("SERBENCH_RUNS", "runs"),
    ):
        folder = tmp_path / "serbench" / sub
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(folder))
        folders[var] = folder
    return folders


@pytest.fixture(params=["compiled", "aten"])
def rnn_loop(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which loop the fast recurrences run: ``SERBENCH_NATIVE_RNN`` set for the test."""
    import shutil

    if request.param == "aten":
        monkeypatch.setenv("SERBENCH_NATIVE_RNN", "0")
        return "aten"
    if not (shutil.which("c++") or shutil.which("g++")):
        pytest.skip("no C++ compiler: the compiled loops cannot be built here")
    monkeypatch.setenv("SERBENCH_NATIVE_RNN", "1")
    return "compiled"


@pytest.fixture
def plugin_manager_factory() -> Callable[..., Any]:
    """A factory of fresh plugin managers holding only the plugins given."""
    from serbench.plugins import make_plugin_manager

    def make(*plugins: Any, load_entry_points: bool = False) -> Any:
        pairs = []
        for i, plugin in enumerate(plugins):
            if isinstance(plugin, tuple):
                pairs.append(plugin)
            else:
                name = getattr(plugin, "__name__", None) or f"plugin{i}"
                pairs.append((name, plugin))
        return make_plugin_manager(load_entry_points=load_entry_points, extra_plugins=pairs)

    return make


@pytest.fixture
def tiny_corpus(tmp_path: Path, serbench_env: dict[str, Path]) -> Any:
    """A few speakers and a few dozen short utterances, written under ``tmp_path``."""
    from serbench.testing.corpora import write_tiny_corpus

    return write_tiny_corpus(tmp_path / "tiny_corpus")


@pytest.fixture
def dummy_model_spec() -> Any:
    """A ModelSpec (name ``dummy``) for the tiny mean-pooling model of the testing kit."""
    from serbench.components import ModelSpec

    return ModelSpec(
        name="dummy",
        version=1,
        description="Mean-pooled frames through one hidden layer (tests only).",
        builder="serbench.testing.dummy:build",
        framework="torch",
        level="frames",
        defaults={"hidden": 8, "lr": 0.01, "batch_size": 8, "max_epochs": 3, "patience": 2},
    )
