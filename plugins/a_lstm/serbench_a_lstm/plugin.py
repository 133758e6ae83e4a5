"""Registers ``a_lstm`` and its DNN baseline ``alstm_dnn`` (entry point ``serbench: a_lstm``).

Light on purpose: no torch import. Table 1's rows are the variants of ``a_lstm``
(``lstm``, ``mean_lstm``, ``a_lstm``); Table 2's DNN row is the model ``alstm_dnn``
(another network on another feature level, so a model rather than a variant, run by
``serbench reproduce a_lstm`` as a baseline); its RNN+DNN row is ``serbench fuse`` of an
``a_lstm`` run and an ``alstm_dnn`` run.
"""

from __future__ import annotations

from collections.abc import Callable

from serbench import hookimpl
from serbench.components import ModelSpec, PaperResult

CITATION = (
    "F. Tao and G. Liu, \"Advanced LSTM: a study about better time dependency modeling in "
    "emotion recognition\", ICASSP 2018, pp. 2906-2910, doi:10.1109/ICASSP.2018.8461750."
)

#: Section 5: emotion, speaker and gender classification weighted 1, 0.3, 0.6.
TASK_WEIGHTS = {"emotion": 1.0, "speaker": 0.3, "gender": 0.6}

#: Training shared by both networks (section 5): batch 32, early stopping after 3 epochs
#: below the best validation score.
TRAINING: dict[str, object] = {"batch_size": 32, "max_epochs": 100, "patience": 3}

RNN_DEFAULTS: dict[str, object] = {
    # architecture (serbench_a_lstm.network:build), section 4.1 and 5.1
    "cell": "advanced",
    "time_steps": [5, 3, 1],
    "combine_every": None,  # None: every max(T) steps (section 4.2)
    "fc_units": 256,
    "hidden_size": 128,
    "branch_units": 256,
    "dropout": 0.5,
    # the recurrence's code, not the model: auto (fast, serbench.nn.fast_rnn) | reference
    "rnn_implementation": "auto",
    # training: Adam (its learning rate is not given; Adam's default)
    "optimizer": "adam",
    "lr": 1e-3,
    **TRAINING,
}

#: Table 1's rows.
RNN_VARIANTS: dict[str, dict[str, object]] = {
    "lstm": {"cell": "lstm"},
    "mean_lstm": {"cell": "mean"},
    "a_lstm": {"cell": "advanced"},
}

DNN_DEFAULTS: dict[str, object] = {
    # architecture (serbench_a_lstm.dnn:build), section 5.2
    "shared_units": [4096, 4096],
    "task_units": 2048,
    "dropout": 0.5,
    # training: SGD (learning rate and momentum are not given)
    "optimizer": "sgd",
    "lr": 0.01,
    "momentum": 0.9,
    **TRAINING,
}


def _row(variant: str, maf: float, map_: float, acc: float, label: str) -> PaperResult:
    return PaperResult(variant=variant, corpus="iemocap", label=label,
                       metrics={"macro_f1": maf, "macro_precision": map_, "wa": acc})


#: Tables 1-2 (IEMOCAP, 4 classes unmerged, one female + one male test speaker), percent.
PAPER_RESULTS: tuple[PaperResult, ...] = (
    _row("lstm", 43.8, 64.3, 52.7, "Table 1 conventional LSTM"),
    _row("mean_lstm", 43.5, 64.3, 52.8, "Table 1 mean LSTM"),
    _row("a_lstm", 46.2, 65.8, 55.3, "Table 1 advanced LSTM = Table 2 RNN (Seq)"),
    _row("alstm_dnn", 56.9, 66.8, 58.2, "Table 2 DNN (IS10)"),
    # Not a single run: `serbench fuse <a_lstm run> <alstm_dnn run>` (FoCal in the paper).
    _row("a_lstm+alstm_dnn", 58.2, 69.6, 58.7, "Table 2 RNN+DNN fusion"),
)

#: Section 3 and 5: st36 z-normalised per utterance, 4 unmerged classes, one female and
#: one male speaker held out, 10% of the rest for validation.
RNN_PREFERRED: dict[str, object] = {
    "feature": "st36",
    "normalisation": "utterance",
    "label_map": "4class-nomerge",
    "protocol": "speaker-holdout",
    "protocol_options": {"valid_fraction": 0.1},
}

#: Section 5.2: IS10 functionals z-normalised with the training part's statistics.
DNN_PREFERRED: dict[str, object] = {**RNN_PREFERRED, "feature": "is10", "normalisation": "global"}

A_LSTM = ModelSpec(
    name="a_lstm",
    version=1,
    description="Advanced LSTM (softmax-weighted recall of earlier states) in a multi-task "
    "weighted pooling BLSTM",
    citation=CITATION,
    builder="serbench_a_lstm.network:build",
    framework="torch",
    level="frames",
    default_feature="st36",
    defaults=RNN_DEFAULTS,
    variants=RNN_VARIANTS,
    default_variant="a_lstm",
    search_space="serbench_a_lstm.search:rnn_search_space",
    grids={"time_steps": {"time_steps": ("3,2,1", "5,3,1", "7,4,1", "9,5,1")}},
    task_weights=TASK_WEIGHTS,
    preferred=RNN_PREFERRED,
    paper_results=PAPER_RESULTS,
)

ALSTM_DNN = ModelSpec(
    name="alstm_dnn",
    version=1,
    description="Multi-task DNN on IS10 functionals (2x4096 shared, 2048 per task): the "
    "A-LSTM paper's baseline",
    citation=CITATION,
    builder="serbench_a_lstm.dnn:build",
    framework="torch",
    level="functionals",
    default_feature="is10",
    defaults=DNN_DEFAULTS,
    search_space="serbench_a_lstm.search:dnn_search_space",
    task_weights=TASK_WEIGHTS,
    preferred=DNN_PREFERRED,
    paper_results=tuple(r for r in PAPER_RESULTS if r.variant == "alstm_dnn"),
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register ``a_lstm`` and ``alstm_dnn`` (see serbench.hookspecs.register_models)."""
    register(A_LSTM)
    register(ALSTM_DNN)
