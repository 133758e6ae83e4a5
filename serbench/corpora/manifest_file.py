"""The built-in ``manifest`` corpus: any CSV, TSV or parquet file with the manifest columns.

A user with a corpus serbench does not know writes one row per utterance (DESIGN.md):
required ``utt_id``, ``path``, ``speaker``, ``label``; optional ``start``, ``end``,
``gender``, ``session``, ``dialog``, ``turn``, ``transcript``, ``valence``, ``arousal``,
``dominance`` and any extra column (e.g. ``split`` for the ``official`` protocol).
Relative paths are resolved against the manifest file's folder.

``--data`` is the file, or a folder holding ``manifest.csv``/``manifest.parquet``
(default folder: ``SERBENCH_DATA/manifest``).

Label maps:
    ``all`` (default): every allowed label present is its own class, in sorted order.
    User maps from corpus options, ``raw:class`` pairs separated by commas:
    ``--corpus-option map=angry:angry,happy:happy,excited:happy`` defines the map
    ``custom``; ``--corpus-option map.4class=...`` defines the map ``4class``. Select one
    with ``--label-map``. Classes keep the order of their first mention.

Allowed labels (:mod:`serbench.corpora.manifest_labels`): ``labels=a,b,c`` when given,
else the raw labels of the user maps, else the file's labels except apparent typos of a
more frequent label. A row with another label is an error naming it; with
``drop_unknown_labels=true`` such rows are left out and the run warns how many. A raw
label that is allowed but left out of the chosen map is dropped from the experiment.

Other options: ``protocol=NAME`` changes the default protocol (``loso-speaker``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from serbench.components import LabelMap
from serbench.corpora.base import Corpus
from serbench.corpora.manifest_labels import DROP_OPTION, LABELS_OPTION, check_labels
from serbench.errors import ConfigError, DataNotFoundError, ManifestError
from serbench.manifest import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from serbench.paths import corpus_dir

NAME = "manifest"
DEFAULT_PROTOCOL = "loso-speaker"
FLOAT_COLUMNS = ("start", "end", "valence", "arousal", "dominance")
INT_COLUMNS = ("turn",)
SUFFIXES = {".csv": ",", ".tsv": "\t", ".parquet": None, ".pq": None}
OBTAIN = (
    "write a CSV or parquet file with one row per utterance and the columns "
    f"{', '.join(REQUIRED_COLUMNS)} (optional: {', '.join(OPTIONAL_COLUMNS)}), "
    "then pass it with --data path/to/manifest.csv"
)


def find_manifest_file(data: Path | None) -> Path:
    """The manifest file named by ``--data`` (a file, or a folder holding one)."""
    folder = data if data is not None else corpus_dir(NAME)
    if data is not None and data.is_file():
        return data
    if folder.is_dir():
        for candidate in ("manifest.csv", "manifest.tsv", "manifest.parquet"):
            if (folder / candidate).is_file():
                return folder / candidate
        raise DataNotFoundError(
            f"corpus 'manifest': folder {folder} holds no manifest.csv, manifest.tsv or "
            f"manifest.parquet. Pass the file itself with --data, or {OBTAIN}."
        )
    raise DataNotFoundError(f"corpus 'manifest': {folder} does not exist; {OBTAIN}.")


def read_manifest_file(path: Path) -> pl.DataFrame:
    """Read and type a manifest file; relative ``path`` values resolved against its folder.

    Raises:
        ManifestError: unreadable file, missing required columns, or values that are not
            numbers in numeric columns (every bad cell listed with its row and column).
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(
            f"corpus 'manifest': {path} has suffix {suffix or '(none)'}; expected one of "
            f"{sorted(SUFFIXES)}"
        )
    try:
        if SUFFIXES[suffix] is None:
            df = pl.read_parquet(path)
        else:
            # everything as text first: speaker '03' must not become the integer 3
            df = pl.read_csv(path, separator=SUFFIXES[suffix], infer_schema=False)
    except Exception as exc:  # polars raises several error types for malformed files
        raise ManifestError(str(path), [f"cannot read the file: {exc}"]) from exc
    df = df.rename({c: c.strip() for c in df.columns})
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ManifestError(
            str(path),
            [f"missing required column(s) {missing}; the file has {df.columns}; "
             f"required: {list(REQUIRED_COLUMNS)}"],
        )
    problems: list[str] = []
    numeric = {**{c: pl.Float64 for c in FLOAT_COLUMNS}, **{c: pl.Int64 for c in INT_COLUMNS}}
    columns = []
    for name in df.columns:
        text = df[name].cast(pl.String).str.strip_chars()
        text = pl.when(text == "").then(None).otherwise(text)
        col = pl.select(text.alias(name)).to_series()
        if name in numeric:
            typed = col.cast(numeric[name], strict=False)
            bad = col.is_not_null() & typed.is_null()
            for i in bad.arg_true().to_list():
                problems.append(
                    f"row {i + 1} (utt_id {df['utt_id'][i]!r}): column {name!r} value "
                    f"{col[i]!r} is not a{'n integer' if name in INT_COLUMNS else ' number'}"
                )
            col = typed
        columns.append(col)
    if problems:
        raise ManifestError(str(path), problems)
    df = pl.DataFrame(columns)
    folder = path.parent.resolve()
    df = df.with_columns(
        pl.col("path").map_elements(
            lambda p: str(_resolve(folder, p)), return_dtype=pl.String, skip_nulls=True
        )
    )
    return df


def _resolve(folder: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else folder / p


def parse_label_map(name: str, spec: str, present: list[str]) -> LabelMap:
    """A :class:`LabelMap` from ``"raw:class,raw:class"``; raw labels must be present."""
    mapping: dict[str, str] = {}
    classes: list[str] = []
    for pair in (p.strip() for p in spec.split(",")):
        if not pair:
            continue
        raw, sep, cls = (s.strip() for s in pair.partition(":"))
        if not sep or not raw or not cls:
            raise ConfigError(
                f"corpus 'manifest', label map {name!r}: {pair!r} is not 'raw:class'; write "
                "e.g. map=angry:angry,happy:happy,excited:happy"
            )
        if raw not in present:
            close = difflib.get_close_matches(raw, present, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"corpus 'manifest', label map {name!r}: raw label {raw!r} does not occur in "
                f"the manifest.{hint} Labels present: {present}"
            )
        if raw in mapping and mapping[raw] != cls:
            raise ConfigError(
                f"corpus 'manifest', label map {name!r}: {raw!r} is mapped twice "
                f"({mapping[raw]!r} and {cls!r})"
            )
        mapping[raw] = cls
        if cls not in classes:
            classes.append(cls)
    if not mapping:
        raise ConfigError(f"corpus 'manifest', label map {name!r} is empty")
    return LabelMap(name=name, mapping=mapping, classes=tuple(classes),
                    description=f"user label map from --corpus-option ({spec})")


def load(data: Path | None, options: Mapping[str, str]) -> Corpus:
    """Load the manifest file named by ``data`` (see the module docstring for options)."""
    plain = ("map", "protocol", LABELS_OPTION, DROP_OPTION)
    unknown = [k for k in options if k not in plain and not k.startswith("map.")]
    if unknown:
        raise ConfigError(
            f"corpus 'manifest' got unknown option(s) {unknown}; known: map=RAW:CLASS,..., "
            f"map.NAME=RAW:CLASS,..., protocol=NAME, {LABELS_OPTION}=A,B,..., "
            f"{DROP_OPTION}=true"
        )
    path = find_manifest_file(Path(data) if data is not None else None)
    df = read_manifest_file(path)
    present = sorted(set(df["label"].drop_nulls().to_list()))
    user_maps: dict[str, LabelMap] = {}
    for key, spec in options.items():
        if key == "map" or key.startswith("map."):
            name = "custom" if key == "map" else key.removeprefix("map.")
            if not name or name in user_maps or name == "all":
                raise ConfigError(
                    f"corpus 'manifest': option {key!r} names label map {name!r}, which is "
                    "empty or taken; use map.NAME with a new NAME"
                )
            user_maps[name] = parse_label_map(name, str(spec), present)
    map_labels = {raw for m in user_maps.values() for raw in m.mapping} if user_maps else None
    df, allowed, warnings = check_labels(df, str(path), options, map_labels)
    label_maps = {
        "all": LabelMap(name="all", mapping={lab: lab for lab in allowed},
                        classes=tuple(allowed), description="every label is its own class"),
        **user_maps,
    }
    return Corpus(
        name=NAME,
        manifest=df,
        label_maps=label_maps,
        default_label_map="all",
        default_protocol=str(options.get("protocol", DEFAULT_PROTOCOL)),
        root=path.parent.resolve(),
        warnings=warnings,
    )
