"""The corpora of a cross-corpus experiment joined into one experiment manifest.

Every utterance id and speaker gets its corpus's tag as a prefix (``nemo:SB0_...``), so
two corpora can never share an id or a speaker (a per-speaker statistic or a
speaker-disjoint validation split never mixes corpora), and a ``role`` column (``train``
or ``test``) tells the ``cross-corpus`` protocol which rows it tests on. The feature
caches stay per corpus, keyed by each corpus's own fingerprint and ids
(:mod:`serbench.crosscorpus.features`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from serbench.corpora.base import Corpus

#: separates a corpus's tag from its own utterance id or speaker
SEPARATOR = ":"
#: manifest columns kept in the joined manifest (when a corpus has them)
KEPT = ("path", "speaker", "label", "raw_label", "gender", "start", "end")


@dataclass(frozen=True)
class CorpusPart:
    """One corpus of the pair, after its label map and the shared classes.

    Attributes:
        role: ``train`` or ``test``.
        tag: the prefix of its ids and speakers (its name; ``name#2`` for a repeat).
        corpus: the loaded corpus.
        version: its plugin's version.
        label_map: the label map used; ``label_map_source`` says why.
        map_classes: that map's own classes (before keeping the shared ones).
        options, data: what it was loaded with.
        fingerprint: its own corpus fingerprint (keys its feature cache).
        manifest: its experiment manifest (own ids), shared classes only.
    """

    role: str
    tag: str
    corpus: Corpus
    version: int
    label_map: str
    label_map_source: str
    map_classes: list[str]
    options: dict[str, Any]
    data: Path | None
    fingerprint: str
    manifest: pl.DataFrame

    def describe(self) -> dict[str, Any]:
        """The part as the run record stores it."""
        return {
            "name": self.corpus.name, "tag": self.tag, "version": self.version,
            "fingerprint": self.fingerprint, "label_map": self.label_map,
            "label_map_source": self.label_map_source, "label_map_classes": self.map_classes,
            "n_utterances": self.manifest.height,
            "n_speakers": self.manifest["speaker"].n_unique(),
            "options": self.options, "data": str(self.data) if self.data else None,
        }


@dataclass(frozen=True)
class CrossCorpus:
    """A cross-corpus experiment: training corpora, one test corpus, shared classes."""

    train: list[CorpusPart]
    test: CorpusPart
    classes: list[str]
    dropped: dict[str, list[str]]
    manifest: pl.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def parts(self) -> list[CorpusPart]:
        return [*self.train, self.test]

    @property
    def pair(self) -> str:
        """``<train>[+<train>...]-to-<test>``, e.g. ``nemo-to-synthetic``."""
        return "+".join(p.corpus.name for p in self.train) + "-to-" + self.test.corpus.name

    @property
    def fingerprint(self) -> str:
        """16 hex digits over every part's role, name and fingerprint."""
        payload = [[p.role, p.corpus.name, p.fingerprint] for p in self.parts]
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]


def tags(names: Sequence[str]) -> list[str]:
    """A distinct tag per corpus: its name, ``name#2``, ... for repeats."""
    out: list[str] = []
    for name in names:
        tag, n = name, 1
        while tag in out:
            n += 1
            tag = f"{name}#{n}"
        out.append(tag)
    return out


def prefixed(tag: str, ids: Sequence[str]) -> list[str]:
    return [f"{tag}{SEPARATOR}{u}" for u in ids]


def join_manifests(parts: Sequence[CorpusPart]) -> pl.DataFrame:
    """One manifest of every part's rows: tagged ids and speakers, ``corpus`` and ``role``."""
    frames = []
    for part in parts:
        df = part.manifest
        columns = [pl.concat_str(pl.lit(part.tag + SEPARATOR),
                                 pl.col("utt_id").cast(pl.String)).alias("utt_id")]
        for name in KEPT:
            if name not in df.columns:
                continue
            col = pl.col(name)
            if name == "speaker":
                col = pl.concat_str(pl.lit(part.tag + SEPARATOR), col.cast(pl.String))
            elif name in ("start", "end"):
                col = col.cast(pl.Float64)
            else:
                col = col.cast(pl.String)
            columns.append(col.alias(name))
        frames.append(df.select(columns).with_columns(
            pl.lit(part.corpus.name).alias("corpus"), pl.lit(part.tag).alias("corpus_tag"),
            pl.lit(part.role).alias("role")))
    return pl.concat(frames, how="diagonal_relaxed")
