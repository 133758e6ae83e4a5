"""READMEs that are true: every file or folder a README names exists (README.md,
docs/*.md, plugins/*/README.md), and a paper plugin's README lists serbench's gradient
clipping among its differences from the paper.

What counts as a claim about this repository:

- a relative Markdown link ``[text](target)`` that stays inside the repository;
- a backticked path outside fenced code blocks whose first segment is an entry of the
  repository's root or of the README's own folder (``serbench/nn/resconv.py``,
  ``tests/test_fast_gca.py`` in a plugin README, ``serbench_rlc/gca.py``), resolved
  against either folder;
- a backticked bare source file name (``resconv.py``), which must exist somewhere in the
  repository.

Backticks holding spaces, placeholders (``<run id>``, ``*``, ``{...}``), options or URLs
are commands or patterns, not paths; other bare names (``record.json``, ``vN.md``) are
files a run or a release writes. Paths outside the repository (``../shared/...``) or
into output folders (``.benchmarks/``, ``.tox/``) are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READMES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "plugins").glob("*/README.md")]
)
#: environments, caches and output folders: not searched, and paths into them not checked
SKIP_DIRS = {".git", ".tox", ".venv", ".ruff_cache", ".benchmarks", "__pycache__", "node_modules"}
#: bare names with these endings are source files; other bare names (``record.json``,
#: ``vN.md``) are often files a run or a release writes, or patterns
SOURCE_EXT = (".py", ".toml", ".ini", ".cpp", ".h", ".conf", ".cfg")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
BACKTICK = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
NOT_A_PATH = re.compile(r"[\s<>*{}$|,()\[\]=]|://")


def _repo_files() -> set[str]:
    names: set[str] = set()
    stack = [ROOT]
    while stack:
        folder = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                if entry.name not in SKIP_DIRS and not entry.name.endswith(".egg-info"):
                    stack.append(entry)
            else:
                names.add(entry.name)
    return names


def _inside_repo(path: Path) -> bool:
    return path.resolve().is_relative_to(ROOT)


def missing_paths(text: str, here: Path, repo_files: set[str]) -> list[str]:
    """The paths a README's ``text`` names (see the module docstring) that do not exist;
    ``here`` is the README's folder."""
    missing: list[str] = []
    for target in LINK.findall(text):
        if target.startswith(("http:", "https:", "mailto:", "#")):
            continue
        path = (here / target.split("#", 1)[0]).resolve()
        if _inside_repo(path) and not path.exists():
            missing.append(f"link ({target})")
    for raw in BACKTICK.findall(FENCE.sub("", text)):
        name = raw.strip()
        if NOT_A_PATH.search(name) or name.startswith("-") or name in {".", "/", "./"}:
            continue
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if not parts or ".." in parts or parts[0] in SKIP_DIRS:
            continue  # outside the repository, not a path, or in an output folder
        if len(parts) == 1 and "/" not in name:
            if name.endswith(SOURCE_EXT) and name not in repo_files:
                missing.append(f"`{name}`")
            continue
        bases = [b for b in (here, ROOT) if (b / parts[0]).exists()]
        if bases and not any((b / Path(*parts)).exists() for b in bases):
            missing.append(f"`{name}`")
    return missing


@pytest.fixture(scope="module")
def repo_files() -> set[str]:
    return _repo_files()


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_readme_names_exists(readme: Path, repo_files: set[str]) -> None:
    missing = missing_paths(readme.read_text(encoding="utf-8"), readme.parent, repo_files)
    assert not missing, (
        f"{readme.relative_to(ROOT)} names paths that do not exist: {', '.join(missing)}; "
        "fix the README (or the path)"
    )


def test_a_wrong_path_is_caught(repo_files: set[str]) -> None:
    """The checker itself: a wrong link, a wrong repository path and a wrong module name
    are reported; commands, run artefacts, fenced code and paths outside the repository
    are not."""
    text = (
        "See [docs](docs/nowhere.md), `serbench/nn/nowhere.py`, `nowhere_module.py`,\n"
        "`serbench/nn/resconv.py`, `record.json`, `serbench run -m rlc`, `../shared/x.md`,\n"
        "`runs/<run id>/record.json`, [ok](docs/plugins.md#hooks).\n"
        "```sh\ncat `serbench/absent.py`\n```\n"
    )
    found = missing_paths(text, ROOT, repo_files)
    assert found == ["link (docs/nowhere.md)", "`serbench/nn/nowhere.py`", "`nowhere_module.py`"]
    # a plugin README resolves against its own folder too
    rlc = ROOT / "plugins" / "rlc"
    assert missing_paths("`serbench_rlc/gca.py`, `tests/nowhere.py`", rlc, repo_files) == [
        "`tests/nowhere.py`"
    ]


def test_paper_plugin_readmes_state_gradient_clipping() -> None:
    """No paper states gradient clipping: a torch model of a plugin under ``plugins/``
    that clips by default (``grad_clip`` > 0, serbench's trainer default 5) says so in
    its README's "What differs" table."""
    import importlib.util

    from serbench.plugins import Registry, make_plugin_manager
    from serbench.training.config import TrainingConfig

    registry = Registry(make_plugin_manager())
    silent = []
    for name in registry.names("model"):
        spec = registry.lookup("model", name).spec
        if spec.framework != "torch":
            continue
        package = spec.builder.split(":", 1)[0].split(".", 1)[0]
        found = importlib.util.find_spec(package)
        if found is None or found.origin is None:
            continue
        readme = Path(found.origin).resolve().parent.parent / "README.md"
        if not readme.is_relative_to(ROOT / "plugins") or not readme.exists():
            continue
        clips = TrainingConfig.from_hparams(dict(spec.defaults)).grad_clip > 0
        if clips and "`grad_clip`" not in readme.read_text(encoding="utf-8"):
            silent.append(f"{name} ({readme.relative_to(ROOT)})")
    assert not silent, f"these READMEs do not list gradient clipping: {', '.join(silent)}"
