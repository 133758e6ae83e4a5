"""Registers the ``ar_gru`` model with serbench (entry point ``serbench: ar_gru``).

Light on purpose: no torch import; the builder and the search space are lazy references.
Every row of the paper's Table 1 is a named variant; the paper's numbers ride along as
:class:`~serbench.components.PaperResult` rows for ``serbench reproduce ar_gru``.
"""

from __future__ import annotations

from collections.abc import Callable

from serbench import hookimpl
from serbench.components import ModelSpec, PaperResult

CITATION = (
    "S. T. Rajamani, K. T. Rajamani, A. Mallol-Ragolta, S. Liu and B. Schuller, "
    '"A novel attention-based gated recurrent unit and its efficacy in speech emotion '
    'recognition", ICASSP 2021, pp. 6294-6298, doi:10.1109/ICASSP39728.2021.9414489. '
    "Network: S.-L. Yeh, Y.-S. Lin and C.-C. Lee, \"An interaction-aware attention network "
    'for speech emotion recognition in spoken dialogs", ICASSP 2019, pp. 6685-6689.'
)

#: Architecture and training defaults: IAAN's published code (hyparams.py: 128 GRU units,
#: attention size 16, FC 64, keep probability 0.9, Adam 1e-4, batch 16, label smoothing
#: 0.1) with the AR-GRU paper's proposed cell, AR-GRU (V).
DEFAULTS: dict[str, object] = {
    # architecture (read by serbench_ar_gru.iaan.build)
    "hidden_size": 128,
    "attention_size": 16,
    "fc_size": 64,
    "dropout": 0.1,
    "bidirectional": True,
    "activation": "arelu",
    "alpha": 0.01,
    "beta": 1.0,
    "alpha_floor": 0.01,
    "activation_params": {},
    "gru_implementation": "auto",
    # context (serbench.data.context): True runs a corpus without dialogues, all turns absent
    "allow_empty_context": False,
    # a missing previous turn: "zero" vector (serbench) or "pad_frame", the GRU's encoding
    # of a zero frame (IAAN's published code); neither paper says (README)
    "absent_context": "zero",
    # training (serbench.training.config.TrainingConfig); max_epochs, patience and
    # grad_clip are in neither the paper nor IAAN's code: serbench's (README)
    "lr": 1e-4,
    "optimizer": "adam",
    "batch_size": 16,
    "max_epochs": 60,
    "patience": 10,
    "label_smoothing": 0.1,
    "grad_clip": 5.0,
}

#: Table 1 of the paper (the IAAN-based rows), as overrides of DEFAULTS.
VARIANTS: dict[str, dict[str, object]] = {
    "iaan": {"activation": "tanh"},
    "r_gru": {"activation": "relu"},
    "ar_gru_i": {"activation": "arelu", "alpha": 0.9, "beta": 2.0, "alpha_floor": 0.01},
    "ar_gru_ii": {"activation": "arelu", "alpha": 0.0, "beta": 2.0, "alpha_floor": 0.0},
    "ar_gru_iii": {"activation": "arelu", "alpha": 0.01, "beta": -4.0, "alpha_floor": 0.01},
    "ar_gru_iv": {"activation": "arelu", "alpha": 0.01, "beta": 2.0, "alpha_floor": 0.01},
    "ar_gru_v": {"activation": "arelu", "alpha": 0.01, "beta": 1.0, "alpha_floor": 0.01},
}


def _row(variant: str, ua: float, wa: float, label: str) -> PaperResult:
    return PaperResult(variant=variant, corpus="iemocap", metrics={"ua": ua, "wa": wa}, label=label)


#: Zhou et al. (AAAI 2018) describe MDNN only as feature groups -> local classifiers whose
#: high-level features feed a global classifier, trained by one objective; neither paper
#: gives the groups, the layer sizes or the objective's weights, so it is not run.
MDNN_NOTE = (
    "not implemented: the AR-GRU paper (one line) and Zhou et al.'s abstract give no "
    "feature groups, layer sizes or loss weights; anything serbench built would not be MDNN"
)

#: Table 1 (IEMOCAP, 4 classes, 5-fold leave-one-session-out), in percent. The BiLSTM+ATT
#: row is serbench's core ``bilstm_att`` model (variant names a model, not a variant of
#: ar_gru); MDNN (Zhou et al. 2018) is shown, not run (MDNN_NOTE).
PAPER_RESULTS: tuple[PaperResult, ...] = (
    _row("bilstm_att", 58.8, 63.5, "BiLSTM+ATT (Mirsamadi 2017)"),
    PaperResult(variant="mdnn", corpus="iemocap", metrics={"ua": 62.7, "wa": 61.8},
                label="MDNN (Zhou 2018)", note=MDNN_NOTE),
    _row("iaan", 66.3, 64.7, "IAAN (Yeh 2019)"),
    _row("r_gru", 67.7, 65.8, "R-GRU"),
    _row("ar_gru_i", 35.7, 38.7, "AR-GRU (I)"),
    _row("ar_gru_ii", 66.3, 64.7, "AR-GRU (II)"),
    _row("ar_gru_iii", 66.9, 65.4, "AR-GRU (III)"),
    _row("ar_gru_iv", 67.9, 66.6, "AR-GRU (IV)"),
    _row("ar_gru_v", 68.3, 66.9, "AR-GRU (V), proposed"),
)

#: The paper's protocol (section 3): IAAN's 45 emobase frame features, IEMOCAP 4-class
#: with excited merged into happy, 5-fold leave-one-session-out, per-speaker z-norm as in
#: IAAN's data/preprocess.py. UA and WA are always reported and early stopping is always
#: on the validation split (serbench's trainer). The paper's corpus, IEMOCAP, is not
#: imposed: these settings apply to whatever corpus is run (where it defines them).
PREFERRED: dict[str, object] = {
    "feature": "iaan45",
    "label_map": "4class",
    "protocol": "loso",
    "normalisation": "speaker",
}

#: The paper's next step: a grid over AReLU's initial alpha and beta.
GRIDS: dict[str, dict[str, tuple[object, ...]]] = {
    "alpha_beta": {
        "alpha": (0.01, 0.05, 0.1, 0.3, 0.6, 0.9),
        "beta": (-4.0, -1.0, 0.0, 1.0, 2.0, 4.0),
    },
}

MODEL = ModelSpec(
    name="ar_gru",
    version=1,
    description="AR-GRU: IAAN whose GRUs use an AReLU candidate activation (Table 1 variants)",
    citation=CITATION,
    builder="serbench_ar_gru.iaan:build",
    framework="torch",
    level="frames",
    default_feature="iaan45",
    defaults=DEFAULTS,
    variants=VARIANTS,
    default_variant="ar_gru_v",
    search_space="serbench_ar_gru.search:search_space",
    grids=GRIDS,
    inputs=("context",),
    preferred=PREFERRED,
    paper_results=PAPER_RESULTS,
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register ``ar_gru`` (see serbench.hookspecs.register_models)."""
    register(MODEL)
