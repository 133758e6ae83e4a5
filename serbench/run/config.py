"""What the user asked for: :class:`RunConfig`, before anything is resolved.

Every field left at ``None`` is filled in by :mod:`serbench.run.resolve`, in this order
(first hit wins): explicit value > model variant > model defaults > the model's
``preferred`` paper protocol > the corpus's defaults > serbench's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunConfig:
    """One run: model variant x corpus x label map x protocol x feature set x seed.

    Attributes:
        model: registered model name.
        variant: one of the model's ``variants`` (None: its ``default_variant``).
        corpus: registered corpus name.
        data: the corpus's folder or file (``--data``); None: ``SERBENCH_DATA/<corpus>``.
        corpus_options: ``--corpus-option`` pairs for the corpus loader.
        label_map: one of the corpus's label maps.
        protocol: registered protocol name.
        protocol_options: ``--protocol-option`` pairs.
        feature: registered feature name.
        feature_params: parameters of the feature extractor.
        normalisation: ``none``, ``utterance``, ``speaker`` or ``global``.
        overrides: ``--set`` hyperparameters, applied over the variant and defaults.
        seed: seeds the split, the weights and the batches.
        device: ``auto``, ``cpu`` or ``cuda``.
        runs_dir: root of run folders (None: ``SERBENCH_RUNS`` or ``./runs``).
        resume: complete only the folds missing from an existing run folder.
        max_epochs: a reduced epoch budget, overriding the model's ``max_epochs``.
        tuning: provenance of a tuned configuration, copied into the record's
            ``tuning`` field (``{"study", "storage", "trial", "objective", "value"}``).
        force: re-run even if a complete run with this configuration exists.
        folds: run only these fold names (None: every fold of the protocol).
        test_corpus: test on this other corpus (cross-corpus: train and validate on
            ``corpus``, :mod:`serbench.crosscorpus`); None: the protocol's own folds.
        test_data, test_corpus_options, test_label_map: the test corpus's ``data``,
            loader options and label map (None: the same name as ``label_map`` when it has
            one, else its default).
        extra_corpora: further training corpora of a cross-corpus run, each ``NAME`` or
            ``NAME=PATH`` (their label map: the same name as ``label_map``, else their
            default).
    """

    model: str
    variant: str | None = None
    corpus: str = "synthetic"
    data: Path | str | None = None
    corpus_options: Mapping[str, Any] = field(default_factory=dict)
    label_map: str | None = None
    protocol: str | None = None
    protocol_options: Mapping[str, Any] = field(default_factory=dict)
    feature: str | None = None
    feature_params: Mapping[str, Any] = field(default_factory=dict)
    normalisation: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    device: str = "auto"
    runs_dir: Path | str | None = None
    resume: bool = False
    max_epochs: int | None = None
    tuning: Mapping[str, Any] | None = None
    force: bool = False
    folds: Sequence[str] | None = None
    test_corpus: str | None = None
    test_data: Path | str | None = None
    test_corpus_options: Mapping[str, Any] = field(default_factory=dict)
    test_label_map: str | None = None
    extra_corpora: Sequence[str] = ()
