"""``tokens``: transcripts as token ids for lexical branches (the RLC paper's).

:class:`Vocabulary` is built on the TRAINING fold's transcripts only
(``Vocabulary.build(train_transcripts)``); ``encode`` maps any text to ids with
``0 = padding`` and ``1 = unknown`` (any word not seen in training, including every
word of a test utterance that training never saw).

Tokenisation: Unicode-aware words (``\\w+`` runs, apostrophes kept inside words, e.g.
"don't"), lower-cased by default; punctuation and bracketed non-speech markers such as
IEMOCAP's ``[LAUGHTER]`` are kept as the bare word (``laughter``).

Pretrained word vectors: the RLC paper uses 300-dim Word2Vec. serbench downloads nothing
at run time and no installed package ships word vectors, so none are offered: models
learn their embeddings from the training fold (:func:`pretrained_vectors` says so).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from serbench.errors import ConfigError

PAD, UNK = 0, 1
_WORD = re.compile(r"\w+(?:'\w+)*", re.UNICODE)


def tokenize(text: str | None, lowercase: bool = True) -> list[str]:
    """Words of ``text`` (empty for ``None``)."""
    if not text:
        return []
    return _WORD.findall(text.lower() if lowercase else text)


class Vocabulary:
    """Word -> id, built on training transcripts; 0 pads, 1 stands for unknown words."""

    def __init__(self, lowercase: bool = True, min_count: int = 1, max_size: int | None = None):
        if min_count < 1:
            raise ConfigError(f"min_count must be >= 1, got {min_count}")
        self.lowercase, self.min_count, self.max_size = lowercase, min_count, max_size
        self.itos: list[str] = ["<pad>", "<unk>"]
        self.stoi: dict[str, int] = {}

    def build(self, transcripts: Iterable[str | None]) -> Vocabulary:
        """Fit on ``transcripts`` (the training fold's); returns ``self``.

        Words are ordered by frequency, ties alphabetically, so a vocabulary is
        deterministic for a given training fold.
        """
        counts = Counter(w for t in transcripts for w in tokenize(t, self.lowercase))
        words = sorted((w for w, c in counts.items() if c >= self.min_count), key=lambda w: (-counts[w], w))
        if self.max_size is not None:
            words = words[: max(0, self.max_size - 2)]
        self.itos = ["<pad>", "<unk>", *words]
        self.stoi = {w: i for i, w in enumerate(self.itos) if i >= 2}
        return self

    def encode(self, text: str | None) -> list[int]:
        """Token ids of ``text``; an empty transcript encodes as ``[UNK]`` (length 1)."""
        ids = [self.stoi.get(w, UNK) for w in tokenize(text, self.lowercase)]
        return ids or [UNK]

    def __len__(self) -> int:
        return len(self.itos)

    def info(self) -> dict[str, Any]:
        """For the run record."""
        return {"size": len(self), "lowercase": self.lowercase, "min_count": self.min_count,
                "max_size": self.max_size, "pretrained_vectors": None}


def pretrained_vectors(vocab: Vocabulary) -> None:
    """Pretrained word vectors for ``vocab``: none are installed locally, so ``None``."""
    return None


def build(params: Mapping[str, Any]) -> Vocabulary:
    """An empty :class:`Vocabulary` configured by ``params`` (lowercase, min_count, max_size)."""
    return Vocabulary(
        lowercase=bool(params.get("lowercase", True)),
        min_count=int(params.get("min_count", 1)),
        max_size=None if params.get("max_size") is None else int(params["max_size"]),
    )
