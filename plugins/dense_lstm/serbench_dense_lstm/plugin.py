"""Registers the ``dense_lstm`` model with serbench (entry point ``serbench: dense_lstm``).

Light on purpose: no torch import; the builder and the search space are lazy references.
The four models of Tables 2-3 (``lstm``, ``general``, ``time``, ``feature``) are variants;
Table 1 gives two hyperparameter columns, so each model exists twice: the plain name
carries the IEMOCAP column (the default, and the shape of the synthetic corpus) and the
``_enterface`` suffix the eNTERFACE column. Paper numbers ride along as
:class:`~serbench.components.PaperResult` rows for ``serbench reproduce dense_lstm``.
"""

from __future__ import annotations

from collections.abc import Callable

from serbench import hookimpl
from serbench.components import ModelSpec, PaperResult

CITATION = (
    "Y. Xie, R. Liang, Z. Liang and L. Zhao, \"Attention-based dense LSTM for speech "
    "emotion recognition\", IEICE Transactions on Information and Systems, vol. E102-D, "
    "no. 7, pp. 1426-1429, 2019, doi:10.1587/transinf.2019EDL8019."
)

#: Table 1, IEMOCAP column: LSTM cells [256, 256], dense [256*2, 128], softmax [128, 5],
#: Adam lr 1e-4 with beta2 = 0.7, L2 1e-4, batch 64, 30,000 steps (about 380 epochs of
#: the 4/5 of IEMOCAP's 6,355 5-class utterances a fold trains on).
IEMOCAP: dict[str, object] = {
    "cells": [256, 256],
    "dense_units": 128,
    "lr": 1e-4,
    "betas": [0.9, 0.7],
    "weight_decay": 1e-4,
    "batch_size": 64,
    "max_epochs": 380,
    "patience": 20,
}

#: Table 1, eNTERFACE column: cells [512, 256], Adam lr 1e-3 with beta2 = 0.7, L2 1e-4,
#: batch 128, 1,500 epochs.
ENTERFACE: dict[str, object] = {
    "cells": [512, 256],
    "dense_units": 128,
    "lr": 1e-3,
    "betas": [0.9, 0.7],
    "weight_decay": 1e-4,
    "batch_size": 128,
    "max_epochs": 1500,
    "patience": 50,
}

DEFAULTS: dict[str, object] = {
    # architecture (serbench_dense_lstm.model:build)
    "mode": "feature",
    "dropout": 0.0,
    # eq. 6's softmax axis: "time" as Lin et al. (2017), whom eq. 6 references (README)
    "feature_softmax": "time",
    "attention_size": None,
    "forget_bias": 1.0,  # TensorFlow / Keras LSTM default (the paper's framework is not named)
    # training (serbench.training.config.TrainingConfig)
    "optimizer": "adam",
    **IEMOCAP,
}

MODES = ("lstm", "general", "time", "feature")
VARIANTS: dict[str, dict[str, object]] = {
    **{mode: {"mode": mode, **IEMOCAP} for mode in MODES},
    **{f"{mode}_enterface": {"mode": mode, **ENTERFACE} for mode in MODES},
}

IEMOCAP_CLASSES = ("angry", "excited", "frustrated", "neutral", "sad")
ENTERFACE_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise")


def _row(variant: str, corpus: str, classes: tuple[str, ...], values: tuple[float, ...],
         label: str) -> PaperResult:
    *recalls, uar = values
    metrics = {f"recall_{c}": r for c, r in zip(classes, recalls, strict=True)}
    return PaperResult(variant=variant, corpus=corpus, metrics={"ua": uar, **metrics},
                       label=label)


#: Tables 2 (eNTERFACE, 6 classes) and 3 (IEMOCAP, 5 classes): per-class recall and UAR,
#: as fractions.
PAPER_RESULTS: tuple[PaperResult, ...] = (
    _row("lstm", "iemocap", IEMOCAP_CLASSES, (0.38, 0.40, 0.47, 0.49, 0.56, 0.46), "Table 3 LSTM"),
    _row("general", "iemocap", IEMOCAP_CLASSES, (0.50, 0.25, 0.46, 0.46, 0.66, 0.47),
         "Table 3 General"),
    _row("time", "iemocap", IEMOCAP_CLASSES, (0.47, 0.38, 0.52, 0.58, 0.57, 0.51), "Table 3 Time"),
    _row("feature", "iemocap", IEMOCAP_CLASSES, (0.55, 0.48, 0.43, 0.59, 0.71, 0.54),
         "Table 3 Feature"),
    _row("lstm_enterface", "enterface", ENTERFACE_CLASSES,
         (0.95, 0.52, 0.81, 0.89, 0.67, 0.85, 0.78), "Table 2 LSTM"),
    _row("general_enterface", "enterface", ENTERFACE_CLASSES,
         (0.84, 0.71, 0.70, 0.81, 0.80, 0.70, 0.76), "Table 2 General"),
    _row("time_enterface", "enterface", ENTERFACE_CLASSES,
         (0.91, 0.88, 0.81, 1.00, 0.91, 0.70, 0.86), "Table 2 Time"),
    _row("feature_enterface", "enterface", ENTERFACE_CLASSES,
         (0.88, 0.81, 0.85, 0.97, 0.87, 0.89, 0.88), "Table 2 Feature"),
)

#: The paper's protocol: ComParE frame-level LLDs, IEMOCAP's 5-class map; per-class
#: recall and UAR are always in the run record (metrics per_class_recall and ua). The
#: paper does not say how features are normalised: serbench's shared choice, per
#: speaker, which docs/training.md measured as worth 16-20 points on few-speaker corpora.
PREFERRED: dict[str, object] = {
    "feature": "compare_lld",
    "label_map": "5class",
    "normalisation": "speaker",
    "enterface": {"label_map": "6class"},
}

MODEL = ModelSpec(
    name="dense_lstm",
    version=2,
    description="Attention-based dense LSTM: LSTM layers with attention-weighted skip "
    "connections (lstm/general/time/feature)",
    citation=CITATION,
    builder="serbench_dense_lstm.model:build",
    framework="torch",
    level="frames",
    default_feature="compare_lld",
    defaults=DEFAULTS,
    variants=VARIANTS,
    default_variant="feature",
    search_space="serbench_dense_lstm.search:search_space",
    grids={"mode_softmax": {"mode": ("time", "feature"), "feature_softmax": ("time", "feature")}},
    preferred=PREFERRED,
    paper_results=PAPER_RESULTS,
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register ``dense_lstm`` (see serbench.hookspecs.register_models)."""
    register(MODEL)
