"""What a run record says about a cross-corpus run (docs/run-record.md, ``cross_corpus``).

The record's ``corpus`` names the pair (``nemo-to-synthetic``; its fingerprint covers
every part's), so the leaderboard keys the benchmark by the pair
(:func:`serbench.leaderboard.records.benchmark_id`); ``cross_corpus`` keeps each corpus's
own name, fingerprint, label map and counts, the shared classes, and where the
normalisation statistics came from.
"""

from __future__ import annotations

from typing import Any

from serbench.crosscorpus.pair import CrossCorpus

#: where each normalisation mode's statistics come from in a cross-corpus run
STATISTICS = {
    "none": "none: features are not normalised",
    "utterance": "utterance: each utterance's own frames",
    "speaker": "speaker: each speaker's own statistics, the test corpus's speakers "
               "included (their unlabelled features; no statistic crosses corpora)",
    "global": "global: one mean and std fitted on the training corpus's training part "
              "only, applied unchanged to the test corpus",
}


def cross_identity(cross: CrossCorpus) -> dict[str, Any]:
    """What the run id's hash covers besides the single-corpus identity."""
    return {
        "pair": cross.pair,
        "classes": cross.classes,
        "parts": [{"role": p.role, "name": p.corpus.name, "version": p.version,
                   "fingerprint": p.fingerprint, "label_map": p.label_map,
                   "options": p.options} for p in cross.parts],
    }


def cross_block(cross: CrossCorpus, normalisation: str) -> dict[str, Any]:
    """The record's ``cross_corpus`` field."""
    return {
        "pair": cross.pair,
        "train": [p.describe() for p in cross.train],
        "test": cross.test.describe(),
        "classes": list(cross.classes),
        "dropped_classes": {tag: list(c) for tag, c in cross.dropped.items()},
        "normalisation_statistics": STATISTICS.get(normalisation, normalisation),
    }


def amend_record(record: dict[str, Any], cross: CrossCorpus, normalisation: str) -> dict[str, Any]:
    """``record`` with ``corpus`` naming the pair and ``cross_corpus`` added."""
    corpus = dict(record["corpus"])
    corpus.update(name=cross.pair, fingerprint=cross.fingerprint)
    return {**record, "corpus": corpus, "cross_corpus": cross_block(cross, normalisation)}
