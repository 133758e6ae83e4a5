"""A benchmark's leaderboard on disk: entries in, numbered snapshots out.

::

    leaderboards/<benchmark>/
      benchmark.json          what the benchmark is (written once, by the first add)
      entries/<run_id>.json   one file per run, merged on read
      published/v1.json       immutable snapshots (entries + computed table) ...
      published/v1.md         ... and their Markdown and HTML renders
      published/v1.html
      retired/<run_id>.json   entries taken off the board, with when and why
                              (:mod:`serbench.leaderboard.retirement`)
      README.md               the latest published Markdown (for browsing on a forge)
      .lock                   held while publishing (git-ignored)

One file per entry means two runs finishing at once both land without a lock; every
write goes through :mod:`serbench.leaderboard.atomic`, so a crash never leaves a torn
file. Publishing takes a lock (a file in the system's temp folder) to number versions in
order; a published file is created exclusively and never rewritten. A version's ``.json``
is written after its ``.md`` and ``.html`` and readers require it, so a version is either
complete or invisible; the next publish cleans what a killed one left
(:mod:`serbench.leaderboard.recovery`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from serbench import __version__
from serbench.atomic import remove_stale_temps
from serbench.errors import ConfigError, SchemaError
from serbench.leaderboard import migrations, recovery, retirement, schema
from serbench.leaderboard.atomic import create_exclusive, dump_json, write_atomic
from serbench.leaderboard.records import (
    benchmark_id,
    entry_from_record,
    is_foreign_folder,
    load_record,
    record_sha256,
    resolve_record_path,
)
from serbench.leaderboard.summary import summarise

DEFAULT_ROOT = Path("leaderboards")


@dataclass(frozen=True)
class AddResult:
    """What ``add`` did with one run: ``status`` is ``"added"``, ``"unchanged"``,
    ``"retired"`` (taken off the board earlier; not brought back without ``replace``) or
    ``"skipped"`` (a folder that is no run; ``benchmark`` is then empty)."""

    benchmark: str
    run_id: str
    status: str
    path: Path


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(str(path), "", f"not valid JSON ({exc}); leaderboard files are "
                          "generated: restore it from git or re-add the run.") from exc


class Leaderboard:
    """The files of one benchmark under ``root``."""

    def __init__(self, root: Path, benchmark: str):
        if not benchmark or "/" in benchmark or benchmark.startswith("."):
            raise ConfigError(f"{benchmark!r} is not a benchmark name "
                              "(<corpus>-<label_map>-<protocol>, e.g. iemocap-4class-loso).")
        self.root, self.benchmark = Path(root), benchmark
        self.dir = self.root / benchmark
        self.entries_dir = self.dir / "entries"
        self.published_dir = self.dir / "published"
        self.info_path = self.dir / "benchmark.json"

    def _lock_path(self) -> Path:
        # in the benchmark's folder (git-ignored), so publishers on two hosts sharing it
        # exclude each other too
        return self.dir / ".lock"

    def exists(self) -> bool:
        """Whether the benchmark has been created (by a first ``add``)."""
        return self.info_path.is_file()

    def _require(self) -> None:
        if not self.exists():
            known = list_benchmarks(self.root)
            raise ConfigError(
                f"no leaderboard {self.benchmark!r} under {self.root} (known: "
                f"{', '.join(known) or 'none'}). Create it with `serbench leaderboard add RUN`."
            )

    # -- reading -----------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """``benchmark.json``, migrated and validated."""
        self._require()
        doc = migrations.migrate(_read_json(self.info_path), "benchmark", str(self.info_path))
        schema.validate(doc, schema.BENCHMARK_SCHEMA, str(self.info_path), what="benchmark file")
        return doc

    def read_entry(self, path: Path, info: dict[str, Any] | None = None) -> dict[str, Any]:
        """One entry file, migrated to the current schema and checked against ``info``."""
        doc = migrations.migrate(_read_json(path), "entry", str(path))
        schema.validate(doc, schema.ENTRY_SCHEMA, str(path), what="leaderboard entry")
        if doc["benchmark"] != self.benchmark:
            raise SchemaError(str(path), "benchmark", f"{doc['benchmark']!r} does not match "
                              f"the folder's benchmark {self.benchmark!r}.")
        if path.stem != doc["run_id"]:
            raise SchemaError(str(path), "run_id", f"{doc['run_id']!r} does not match the "
                              f"file name {path.name!r}.")
        info = info if info is not None else self.info()
        _check_fingerprint(doc["corpus"]["fingerprint"], info, str(path), self.info_path)
        return doc

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, sorted by run id (temporary files of unfinished writes are skipped)."""
        info = self.info()
        files = sorted(p for p in self.entries_dir.glob("*.json") if not p.name.startswith("."))
        return [self.read_entry(p, info) for p in files]

    def versions(self) -> list[int]:
        """Published version numbers, ascending."""
        found = []
        for p in self.published_dir.glob("v*.json"):
            if p.stem[1:].isdigit():
                found.append(int(p.stem[1:]))
        return sorted(found)

    def snapshot_path(self, version: int, suffix: str = ".json") -> Path:
        """``published/v<version><suffix>``."""
        return self.published_dir / f"v{version}{suffix}"

    def snapshot(self, version: int | None = None) -> dict[str, Any]:
        """A published snapshot (default: the latest), migrated and validated."""
        self._require()
        versions = self.versions()
        if not versions:
            raise ConfigError(f"{self.benchmark!r} has no published version yet; "
                              f"run `serbench leaderboard publish {self.benchmark}`.")
        version = versions[-1] if version is None else version
        path = self.snapshot_path(version)
        if not path.is_file():
            raise ConfigError(f"{self.benchmark!r} has no version {version} "
                              f"(published: {', '.join(f'v{v}' for v in versions)}).")
        doc = migrations.migrate(_read_json(path), "snapshot", str(path))
        if "summary" not in doc:  # schema 0 stored no table: compute it as published
            doc["summary"] = summarise(doc["entries"], doc["info"]["metrics"])
        schema.validate(doc, schema.SNAPSHOT_SCHEMA, str(path), what="published snapshot")
        return doc

    def current(self) -> dict[str, Any]:
        """The unpublished state, shaped like a snapshot (``version`` is ``None``)."""
        info, entries = self.info(), self.entries()
        return {"schema_version": schema.SCHEMA_VERSION, "benchmark": self.benchmark,
                "version": None, "published": None, "serbench_version": __version__,
                "note": None, "info": info, "entries": entries,
                "summary": summarise(entries, info["metrics"])}

    # -- writing -----------------------------------------------------------------------

    def _ensure_info(self, record: dict[str, Any], metrics: Sequence[str] | None,
                     source: Path) -> dict[str, Any]:
        if not self.exists():
            doc = {"schema_version": schema.SCHEMA_VERSION, "benchmark": self.benchmark,
                   "corpus": record["corpus"]["name"],
                   "label_map": record["corpus"].get("label_map"),
                   "protocol": record["protocol"]["name"],
                   "metrics": list(metrics or migrations.DEFAULT_METRICS),
                   "corpus_fingerprint": record["corpus"]["fingerprint"],
                   "created": datetime.now(UTC).replace(microsecond=0).isoformat()}
            create_exclusive(self.info_path, dump_json(doc))  # a racing add may win: fine
        info = self.info()
        for field, value, expected in (
            ("corpus.name", record["corpus"]["name"], info["corpus"]),
            ("corpus.label_map", record["corpus"].get("label_map"), info["label_map"]),
            ("protocol.name", record["protocol"]["name"], info["protocol"]),
        ):
            if value != expected:
                raise SchemaError(str(source), field,
                                  f"{value!r} differs from benchmark {self.benchmark!r}'s "
                                  f"{expected!r} ({self.info_path}); add the run to its own "
                                  "benchmark (leave out --benchmark).")
        _check_fingerprint(record["corpus"]["fingerprint"], info, str(source), self.info_path,
                           field="corpus.fingerprint")
        for metric in info["metrics"]:
            if metric not in record["aggregate"]["mean"]:
                raise SchemaError(str(source), f"aggregate.mean.{metric}",
                                  f"the benchmark's metric {metric!r} is missing from the run.")
        return info

    def add(self, record_path: Path, *, metrics: Sequence[str] | None = None,
            replace: bool = False) -> AddResult:
        """Add the run whose record is at ``record_path``; re-adding it is a no-op."""
        record = load_record(record_path)
        self._ensure_info(record, metrics, record_path)
        remove_stale_temps(self.entries_dir)  # a killed add's; a live writer's stay
        target = self.entries_dir / f"{record['run_id']}.json"
        retired = retirement.retired_path(self.dir, record["run_id"])
        if retired.is_file() and not replace:
            return AddResult(self.benchmark, record["run_id"], "retired", retired)
        if target.is_file() and not replace:
            existing = self.read_entry(target)
            if existing["record_sha256"] == record_sha256(record):
                return AddResult(self.benchmark, record["run_id"], "unchanged", target)
            raise ConfigError(
                f"{target} already holds run {record['run_id']!r} from a different record "
                f"than {record_path}; pass --replace to overwrite it (the published versions "
                "keep the old one)."
            )
        entry = entry_from_record(record, benchmark=self.benchmark,
                                  predictions=record_path.parent / "predictions.parquet")
        write_atomic(target, dump_json(entry))
        retired.unlink(missing_ok=True)  # --replace brings a retired run back
        return AddResult(self.benchmark, record["run_id"], "added", target)

    def retire(self, run_ids: Sequence[str], reason: str) -> list[Path]:
        """Take entries off the board, keeping them in ``retired/`` with ``reason``."""
        self._require()
        with FileLock(str(self._lock_path()), timeout=60):
            latest = (self.versions() or [None])[-1]
            return retirement.retire(self.dir, self.entries_dir, run_ids, reason,
                                     after_version=latest)

    def recover(self) -> list[str]:
        """Clean or complete what an interrupted publish or add left; returns what it did."""
        self._require()
        with FileLock(str(self._lock_path()), timeout=60):
            return self._recover()

    def _recover(self) -> list[str]:
        return recovery.recover(self.dir, self.published_dir, self.entries_dir,
                                self.versions(), self.snapshot, _renders)

    def publish(self, *, note: str | None = None) -> tuple[int, list[Path]]:
        """Freeze the current entries as the next version; returns it and the files written.

        The renders are written first and ``v<N>.json`` last: a version is visible to
        readers only once all its files are there.
        """
        self._require()
        self.published_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self._lock_path()), timeout=60):
            self._recover()
            snap = self.current()
            if not snap["entries"]:
                raise ConfigError(f"{self.benchmark!r} has no entries to publish; add runs "
                                  "with `serbench leaderboard add RUN`.")
            versions = self.versions()
            version = (versions or [0])[-1] + 1
            previous = versions[-1] if versions else None
            retired_note = retirement.note_of_retirements(
                retirement.retired_since(self.dir, previous), previous)
            if retired_note:  # a row leaving the board is said, never silent
                note = f"{note.rstrip('. ')}. {retired_note}" if note else retired_note
            snap.update(version=version, note=note,
                        published=datetime.now(UTC).replace(microsecond=0).isoformat())
            schema.validate(snap, schema.SNAPSHOT_SCHEMA, str(self.snapshot_path(version)),
                            what="published snapshot")
            texts = {**_renders(snap), ".json": dump_json(snap)}  # .json last (see above)
            written = []
            for suffix, text in texts.items():
                path = self.snapshot_path(version, suffix)
                if not create_exclusive(path, text):  # another publisher got there first
                    raise ConfigError(f"{path} already exists; published files are immutable. "
                                      "Another publish of this benchmark ran at the same time: "
                                      "check `serbench leaderboard list`, then publish again.")
                written.append(path)
            write_atomic(self.dir / "README.md", texts[".md"])
        return version, written


def _renders(snap: dict[str, Any]) -> dict[str, str]:
    """A snapshot's Markdown and HTML pages, keyed by file suffix."""
    from serbench.leaderboard.render_html import render_html
    from serbench.leaderboard.render_markdown import render_markdown

    return {".md": render_markdown(snap), ".html": render_html(snap)}


def _check_fingerprint(value: str, info: dict[str, Any], source: str, info_path: Path,
                       field: str = "corpus.fingerprint") -> None:
    if value != info["corpus_fingerprint"]:
        raise SchemaError(
            source, field,
            f"corpus fingerprint {value!r} conflicts with the benchmark's "
            f"{info['corpus_fingerprint']!r} ({info_path}): the run used different data "
            "(another corpus version or options). Results on different data cannot share a "
            "leaderboard; use --benchmark NAME to start a separate one.",
        )


def list_benchmarks(root: Path) -> list[str]:
    """Names of the benchmarks under ``root``."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "benchmark.json").is_file())


def add_runs(runs: Sequence[str | Path], root: Path = DEFAULT_ROOT, *,
             benchmark: str | None = None, metrics: Sequence[str] | None = None,
             replace: bool = False) -> list[AddResult]:
    """Add runs (folders, ``record.json`` paths or run ids) to their benchmarks.

    Folders that are no run at all (``runs/studies/`` among ``runs/*/``) are skipped, each
    with an :class:`AddResult` of status ``"skipped"``; when nothing but such folders is
    given, that is an error (:func:`resolve_record_path`'s message)."""
    foreign = [run for run in runs if is_foreign_folder(run)]
    if foreign and len(foreign) == len(runs):
        resolve_record_path(foreign[0])  # raises: not a run folder
    results = []
    for run in runs:
        if is_foreign_folder(run):
            results.append(AddResult("", Path(run).name, "skipped", Path(run)))
            continue
        path = resolve_record_path(run)
        name = benchmark or benchmark_id(load_record(path))
        results.append(Leaderboard(root, name).add(path, metrics=metrics, replace=replace))
    return results
