"""The run folder ``runs/<run_id>/`` and its atomic writes (layout: docs/run-record.md).

``config.json`` is written first, each ``folds/<fold>.json`` when its fold finishes
(its predictions ``folds/<fold>.parquet`` just before it), ``predictions.parquet`` and
``record.json`` last. Every file is written to a temporary file in the same folder and
moved into place with :func:`os.replace`, so an interrupted run never leaves a half
file: a fold is done exactly when its JSON exists.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from serbench.atomic import write_atomic, write_text_atomic
from serbench.errors import ConfigError
from serbench.run.lock import LOCK_NAME, OWNER_NAME


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    write_text_atomic(path, text)


def atomic_write_parquet(path: Path, frame: pl.DataFrame) -> None:
    """Write a polars frame as parquet, atomically."""
    write_atomic(path, lambda tmp: frame.write_parquet(tmp))


def _json_default(obj: Any) -> Any:
    """numpy scalars/arrays, paths and tuples-in-disguise to plain JSON."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    return repr(obj)


def safe_name(name: str) -> str:
    """A fold name usable as a file name (``/`` and other odd characters become ``_``)."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name) or "_"


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (lists stay values), for readable diffs."""
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out if out or not prefix else {prefix[:-1]: {}}
    return {prefix[:-1]: obj}


def describe_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``["protocol.options.k: 5 -> 10", ...]`` between two configurations."""
    a, b = flatten(json.loads(json.dumps(old, default=_json_default))), flatten(
        json.loads(json.dumps(new, default=_json_default))
    )
    missing = object()
    lines = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, missing), b.get(key, missing)
        if va != vb:
            show_a = "(absent)" if va is missing else json.dumps(va)
            show_b = "(absent)" if vb is missing else json.dumps(vb)
            lines.append(f"{key}: {show_a} -> {show_b}")
    return lines


class RunFolder:
    """Paths and reads/writes of one run folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def run_id(self) -> str:
        return self.root.name

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    @property
    def record_path(self) -> Path:
        return self.root / "record.json"

    @property
    def predictions_path(self) -> Path:
        return self.root / "predictions.parquet"

    @property
    def folds_dir(self) -> Path:
        return self.root / "folds"

    def fold_path(self, fold: str) -> Path:
        return self.folds_dir / f"{safe_name(fold)}.json"

    def fold_predictions_path(self, fold: str) -> Path:
        return self.folds_dir / f"{safe_name(fold)}.parquet"

    @property
    def valid_predictions_path(self) -> Path:
        """Validation utterances' predictions, every fold (for ``serbench fuse``)."""
        return self.root / "valid_predictions.parquet"

    def fold_valid_predictions_path(self, fold: str) -> Path:
        return self.folds_dir / f"{safe_name(fold)}.valid.parquet"

    def checkpoint_path(self, fold: str) -> Path:
        return self.root / f"model_{safe_name(fold)}.pt"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def is_complete(self) -> bool:
        return self.record_path.is_file()

    def read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"cannot read {path}: {exc}. Delete the run folder {self.root} (or re-run "
                "with --force) to start over."
            ) from exc

    def read_config(self) -> dict[str, Any]:
        return self.read_json(self.config_path)

    def read_record(self) -> dict[str, Any]:
        return self.read_json(self.record_path)

    def completed_folds(self) -> dict[str, dict[str, Any]]:
        """Fold name -> its saved fold entry, for every fold whose JSON is on disk."""
        done: dict[str, dict[str, Any]] = {}
        if self.folds_dir.is_dir():
            for path in sorted(self.folds_dir.glob("*.json")):
                entry = self.read_json(path)
                if self.fold_predictions_path(entry["name"]).is_file():
                    done[entry["name"]] = entry
        return done

    def write_config(self, config: Mapping[str, Any]) -> None:
        atomic_write_json(self.config_path, dict(config))

    def write_fold(self, entry: Mapping[str, Any], predictions: pl.DataFrame) -> None:
        """Predictions first, then the fold JSON that marks the fold as done."""
        atomic_write_parquet(self.fold_predictions_path(entry["name"]), predictions)
        atomic_write_json(self.fold_path(entry["name"]), dict(entry))

    def read_fold_predictions(self, fold: str) -> pl.DataFrame:
        return pl.read_parquet(self.fold_predictions_path(fold))

    def clear(self) -> None:
        """Empty the folder (``--force``), keeping the lock its process holds
        (:mod:`serbench.run.lock`)."""
        if not self.root.exists():
            return
        for child in self.root.iterdir():
            if child.name in (LOCK_NAME, OWNER_NAME):
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()


def similar_runs(runs_dir: Path, prefix: str, exclude: str | None = None) -> list[RunFolder]:
    """Run folders under ``runs_dir`` named ``<prefix>-<hash>``, newest first."""
    if not runs_dir.is_dir():
        return []
    found = [
        RunFolder(p) for p in runs_dir.iterdir()
        if p.is_dir() and p.name != exclude and p.name.rsplit("-", 1)[0] == prefix
        and (p / "config.json").is_file()
    ]
    return sorted(found, key=lambda f: f.config_path.stat().st_mtime, reverse=True)


def locate_run(ref: str | Path, runs_dir: Path | None = None) -> RunFolder:
    """A run folder from a folder path, a ``record.json`` path or a run id under
    ``runs_dir`` (default: ``SERBENCH_RUNS`` or ``./runs``); a unique run-id prefix works."""
    from serbench import paths

    path = Path(ref).expanduser()
    if path.is_file() and path.name in {"record.json", "config.json"}:
        return RunFolder(path.parent)
    if (path / "config.json").is_file():
        return RunFolder(path)
    root = runs_dir or paths.runs_dir()
    if (root / str(ref) / "config.json").is_file():
        return RunFolder(root / str(ref))
    # only a bare run-id prefix is matched (a path or glob characters would mean something else)
    prefix = str(ref)
    is_prefix = root.is_dir() and not any(c in prefix for c in "/\\*?[")
    matches = sorted(p for p in root.iterdir()
                     if p.name.startswith(prefix) and (p / "config.json").is_file()) \
        if is_prefix else []
    if len(matches) == 1:
        return RunFolder(matches[0])
    if len(matches) > 1:
        raise ConfigError(
            f"run {str(ref)!r} matches {len(matches)} runs in {root}: "
            + ", ".join(p.name for p in matches[:10]) + ". Give the full run id."
        )
    raise ConfigError(
        f"no run {str(ref)!r}: not a run folder, a record.json, or a run id in {root}. "
        "Pass the folder printed by `serbench run` (or set --runs-dir / SERBENCH_RUNS)."
    )
