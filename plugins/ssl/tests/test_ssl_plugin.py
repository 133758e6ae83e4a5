"""The serbench-ssl distribution's registration, as a third party's."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner
from serbench.cli import cli
from serbench.plugins import Registry, make_plugin_manager


def test_registered_through_the_entry_point() -> None:
    registry = Registry(make_plugin_manager())
    for kind, name in (("feature", "ssl"), ("model", "ssl_head")):
        entry = registry.lookup(kind, name)
        assert entry.distribution == "serbench-ssl" and entry.plugin == "ssl"
        assert entry.spec.validate() == []
    assert registry.model("ssl_head").preferred["feature_params"] == {"layer": "all"}


def test_plugins_verbose_lists_the_feature_and_the_head() -> None:
    result = CliRunner().invoke(cli, ["plugins", "-v"], terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "ssl" in line]
    assert any("feature" in r and " ssl " in r for r in rows), result.output
    assert any("model" in r and "ssl_head" in r for r in rows), result.output


def test_listing_imports_neither_torch_nor_transformers() -> None:
    code = ("import sys; from serbench.plugins import Registry, make_plugin_manager; "
            "r = Registry(make_plugin_manager()); r.feature('ssl'); r.model('ssl_head'); "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_the_search_space_is_declared() -> None:
    from serbench.lazy import resolve

    spec = Registry(make_plugin_manager()).model("ssl_head")
    space = resolve(spec.search_space)()
    assert {"projection", "pooling", "classifier", "dropout", "lr"} <= set(space)
    assert set(space["pooling"].choices) == {"mean", "attentive"}
