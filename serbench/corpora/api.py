"""Load a corpus by name, validated, and derive what an experiment needs from it.

``load_corpus`` resolves the corpus plugin's loader, runs it and validates the manifest
(every bad row at once) before anything else runs; ``experiment_manifest`` applies a
label map; ``corpus_fingerprint`` is the content hash that keys caches and results.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from serbench.corpora.base import Corpus
from serbench.errors import (
    DataNotFoundError,
    SerbenchError,
    UnknownComponentError,
)
from serbench.lazy import resolve
from serbench.manifest import apply_label_map, fingerprint, validate_manifest
from serbench.plugins import Registry, get_registry

__all__ = ["corpus_fingerprint", "experiment_manifest", "known_raw_labels", "load_corpus"]


def load_corpus(
    name: str,
    data: Path | str | None = None,
    options: Mapping[str, str] | None = None,
    *,
    registry: Registry | None = None,
    validate: bool = True,
    check_audio: bool = True,
) -> Corpus:
    """Load corpus ``name`` through its plugin and validate its manifest.

    Args:
        name: a registered corpus name; unknown names get a did-you-mean error.
        data: the user's ``--data`` (a folder or, for ``manifest``, a CSV/parquet file);
            ``None`` lets the loader look in ``SERBENCH_DATA/<name>``.
        options: ``--corpus-option KEY=VALUE`` pairs, passed to the loader.
        registry: defaults to the process-wide registry of installed plugins.
        validate: run :func:`serbench.manifest.validate_manifest` (known labels: every
            raw label of the corpus's label maps).
        check_audio: with ``validate``, also open every audio file's header.

    Raises:
        DataNotFoundError: ``data`` does not exist, or the loader found no data (the
            message says where to get it).
        ManifestError: listing every bad row.
    """
    registry = registry or get_registry()
    spec = registry.corpus(name)
    if data is not None:
        data = Path(data).expanduser()
        if not data.exists():
            raise DataNotFoundError(
                f"corpus {name!r}: the data path {data} does not exist. Pass --data with an "
                f"existing folder or file.{_obtain_hint(spec.obtain)}"
            )
    loader = resolve(spec.loader)
    try:
        corpus = loader(data, dict(options or {}))
    except FileNotFoundError as exc:  # a loader that did not translate its own error
        raise DataNotFoundError(
            f"corpus {name!r}: data not found ({exc}).{_obtain_hint(spec.obtain)}"
        ) from exc
    if not isinstance(corpus, Corpus):
        raise SerbenchError(
            f"corpus {name!r}: its loader {spec.loader!r} returned {type(corpus).__name__}, "
            "not a serbench.corpora.base.Corpus"
        )
    if corpus.default_label_map not in corpus.label_maps:
        raise SerbenchError(
            f"corpus {name!r}: default label map {corpus.default_label_map!r} is not among "
            f"its label maps {sorted(corpus.label_maps)}"
        )
    if validate:
        source = f"corpus {name!r}" + (f" ({corpus.root})" if corpus.root else "")
        validate_manifest(
            corpus.manifest, source, known_labels=known_raw_labels(corpus),
            check_audio=check_audio,
        )
    return corpus


def _obtain_hint(obtain: str) -> str:
    return f" To get the data: {obtain}" if obtain else ""


def known_raw_labels(corpus: Corpus) -> set[str]:
    """The union of the raw labels that the corpus's label maps know."""
    labels: set[str] = set()
    for label_map in corpus.label_maps.values():
        labels.update(label_map.mapping)
    return labels


def experiment_manifest(corpus: Corpus, label_map: str | None = None) -> pl.DataFrame:
    """The manifest with ``label_map`` (default: the corpus's) applied.

    Rows whose raw label the map drops are removed; ``label`` holds the class name and
    ``raw_label`` the original.

    Raises:
        UnknownComponentError: an unknown label map (with did-you-mean).
        ConfigError: the map leaves a class without utterances.
    """
    chosen = label_map or corpus.default_label_map
    if chosen not in corpus.label_maps:
        raise UnknownComponentError("label map", chosen,
                                    corpus.label_maps)
    return apply_label_map(corpus.manifest, corpus.label_maps[chosen])


def corpus_fingerprint(corpus: Corpus) -> str:
    """16-hex content hash of the corpus's manifest, its name and ``fingerprint_extra``."""
    return fingerprint(corpus.manifest, {"corpus": corpus.name, **dict(corpus.fingerprint_extra)})
