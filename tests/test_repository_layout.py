"""The repository's own conventions: every paper plugin is installed by tox and carries
the files a third-party plugin would (pyproject with a `serbench` entry point, README,
tests)."""

import configparser
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_DIRS = sorted(p for p in (ROOT / "plugins").iterdir() if p.is_dir()
                     and not p.name.startswith((".", "_")))


def test_tox_installs_every_plugin_directory():
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    listed = {line.split()[-1].rstrip("/") for line in tox["base"]["plugins"].split("\n")
              if line.strip()}
    assert listed == {f"plugins/{p.name}" for p in PLUGIN_DIRS}


def test_each_plugin_is_a_distribution_with_readme_and_tests():
    for plugin in PLUGIN_DIRS:
        meta = tomllib.loads((plugin / "pyproject.toml").read_text())
        assert meta["project"]["entry-points"]["serbench"], plugin.name
        assert "serbench" in " ".join(meta["project"]["dependencies"]), plugin.name
        readme = (plugin / "README.md").read_text().lower()
        assert "changelog" in readme and "citation" in readme, plugin.name
        assert list((plugin / "tests").glob("test_*.py")), plugin.name
