"""The manifest: one row per utterance, validated before anything runs.

Required columns: ``utt_id`` (unique), ``path``, ``speaker``, ``label``.
Optional, used where present: ``start``, ``end`` (seconds, segments of longer files),
``gender``, ``session``, ``dialog``, ``turn`` (order within the dialog), ``transcript``,
``valence``, ``arousal``, ``dominance``; corpora may add more (e.g. ``dialog_kind``).

The manifest's content hash is the corpus fingerprint that keys caches and results.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from serbench.components import LabelMap
from serbench.errors import ConfigError, ManifestError

REQUIRED_COLUMNS = ("utt_id", "path", "speaker", "label")
OPTIONAL_COLUMNS = (
    "start",
    "end",
    "gender",
    "session",
    "dialog",
    "turn",
    "transcript",
    "valence",
    "arousal",
    "dominance",
)


def _audio_problem(path: Path, start: float | None, end: float | None) -> str | None:
    """Why the audio at ``path`` cannot be used, or None if it can."""
    import soundfile

    if not path.is_file():
        return f"missing audio file {path}"
    if path.stat().st_size == 0:
        return f"empty (zero-length) audio file {path}"
    try:
        info = soundfile.info(str(path))
    except Exception as exc:  # soundfile raises its own error types
        return f"unreadable audio file {path} ({exc})"
    if info.frames == 0:
        return f"audio file {path} holds no samples"
    duration = info.frames / info.samplerate
    if start is not None and end is not None and not (0 <= start < end):
        return f"segment of {path} has start {start} >= end {end}"
    if end is not None and end > duration + 0.05:
        return f"segment end {end:.2f}s is past the end of {path} ({duration:.2f}s)"
    return None


def validate_manifest(
    manifest: pl.DataFrame,
    source: str,
    *,
    known_labels: Iterable[str] | None = None,
    check_audio: bool = True,
) -> None:
    """Check a manifest and report every bad row at once.

    Args:
        manifest: the manifest to check.
        source: where it came from (file or corpus name), used in the message.
        known_labels: the raw labels the corpus defines; others are reported.
        check_audio: open each file's header (missing, empty, unreadable audio).

    Raises:
        ManifestError: listing each problem with its row number, utt_id and path.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in manifest.columns]
    if missing:
        raise ManifestError(
            source,
            [f"missing required column(s) {missing}; required: {list(REQUIRED_COLUMNS)}"],
        )
    problems: list[str] = []
    if manifest.height == 0:
        raise ManifestError(source, ["the manifest has no rows"])
    known = set(known_labels) if known_labels is not None else None
    seen: dict[str, int] = {}
    has_start = "start" in manifest.columns
    has_end = "end" in manifest.columns
    for i, row in enumerate(manifest.iter_rows(named=True)):
        where = f"row {i + 1} (utt_id {row['utt_id']!r})"
        for col in REQUIRED_COLUMNS:
            if row[col] is None or str(row[col]).strip() == "":
                problems.append(f"{where}: empty {col!r}")
        uid = row["utt_id"]
        if uid is not None:
            if uid in seen:
                problems.append(f"{where}: duplicate utt_id, first seen in row {seen[uid] + 1}")
            else:
                seen[uid] = i
        label = row["label"]
        if known is not None and label is not None and label not in known:
            problems.append(f"{where}: unknown label {label!r}; known: {sorted(known)}")
        if check_audio and row["path"]:
            start = row["start"] if has_start else None
            end = row["end"] if has_end else None
            problem = _audio_problem(Path(row["path"]), start, end)
            if problem:
                problems.append(f"{where}: {problem}")
    if problems:
        raise ManifestError(source, problems)


def _relative_paths(paths: list[str]) -> list[str]:
    """Paths relative to their common folder, so a corpus moved elsewhere keeps its fingerprint."""
    if not paths:
        return []
    try:
        root = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    except ValueError:  # mixed drives or relative/absolute mixtures
        return paths
    return [os.path.relpath(os.path.abspath(p), root) for p in paths]


def fingerprint(manifest: pl.DataFrame, extra: Mapping[str, Any] | None = None) -> str:
    """Content hash of a manifest (rows sorted by utt_id) plus ``extra``; 16 hex digits.

    Audio is represented by each file's path relative to the corpus's common folder and
    its size, so the fingerprint is the same wherever the corpus sits on disk, and it
    changes when rows, labels, segments, files or ``extra`` (e.g. a generator version)
    change.
    """
    ordered = manifest.sort("utt_id")
    paths = [str(p) for p in ordered["path"].to_list()]
    ordered = ordered.with_columns(pl.Series("path", _relative_paths(paths)))
    h = hashlib.sha256()
    h.update(json.dumps(sorted(ordered.columns)).encode())
    h.update(ordered.select(sorted(ordered.columns)).write_csv().encode())
    sizes = []
    for p in paths:
        try:
            sizes.append(Path(p).stat().st_size)
        except OSError:
            sizes.append(-1)
    h.update(json.dumps(sizes).encode())
    h.update(json.dumps(dict(extra or {}), sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def apply_label_map(manifest: pl.DataFrame, label_map: LabelMap) -> pl.DataFrame:
    """Rows kept by ``label_map`` with ``label`` mapped to its class; ``raw_label`` keeps
    the original.

    Raises:
        ConfigError: if a class of the map ends up with no utterance.
    """
    df = manifest
    for column, allowed in label_map.where.items():
        if column not in df.columns:
            raise ConfigError(
                f"label map {label_map.name!r} filters on column {column!r}, "
                "which this corpus's manifest does not have"
            )
        df = df.filter(pl.col(column).is_in(list(allowed)))
    df = df.filter(pl.col("label").is_in(list(label_map.mapping)))
    df = df.with_columns(
        pl.col("label").alias("raw_label"),
        pl.col("label").replace_strict(dict(label_map.mapping), return_dtype=pl.String),
    )
    present = set(df["label"].unique().to_list())
    empty = [c for c in label_map.classes if c not in present]
    if empty:
        raise ConfigError(
            f"label map {label_map.name!r} leaves class(es) {empty} without any utterance "
            f"({df.height} utterances kept). Choose another label map or check the labels."
        )
    return df
