"""What a corpus loader returns.

``CorpusSpec.loader`` resolves to ``load(data: Path | None, options: Mapping[str, str])
-> Corpus``. ``data`` is the user's ``--data`` (``None``: look in
``serbench.paths.corpus_dir(name)``); ``options`` are ``--corpus-option KEY=VALUE``
pairs (e.g. ``size=full`` for the synthetic corpus). A loader whose data is missing
raises :class:`serbench.errors.DataNotFoundError` naming where to obtain it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from serbench.components import LabelMap


@dataclass
class Corpus:
    """A loaded corpus.

    Attributes:
        name: the corpus plugin's name.
        manifest: one row per utterance with raw labels (see ``serbench.manifest``).
        label_maps: name -> :class:`LabelMap`.
        default_label_map: the label map used when the user names none.
        default_protocol: the protocol used when the user names none.
        root: the folder the data was read from, when there is one.
        fingerprint_extra: anything besides the manifest content that changes the
            audio (e.g. a generator version); folded into the fingerprint.
        protocol_options: per-protocol default options (e.g. ``{"official": {...}}``).
        warnings: what the loader did that shifts results and the user must hear of
            (e.g. rows left out by ``drop_unknown_labels``); shown by ``serbench run``
            and stored in the run record's ``warnings``.
    """

    name: str
    manifest: pl.DataFrame
    label_maps: dict[str, LabelMap]
    default_label_map: str
    default_protocol: str
    root: Path | None = None
    fingerprint_extra: Mapping[str, Any] = field(default_factory=dict)
    protocol_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
