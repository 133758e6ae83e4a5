"""Registers the ``drn`` model (entry point ``serbench: drn``).

Light on purpose: no torch import. Every row of the paper's Table 2 is a named variant
(``baseline``, ``s1``, ``s2``, ``s3``, ``s4`` = DRN, the default); Table 1's comparison
systems are the models of the ``baselines`` plugin and the core ``bilstm_att``.
"""

from __future__ import annotations

from collections.abc import Callable

from serbench import hookimpl
from serbench.components import ModelSpec, PaperResult

CITATION = (
    "R. Li, Z. Wu, J. Jia, S. Zhao and H. Meng, \"Dilated residual network with multi-head "
    'self-attention for speech emotion recognition", ICASSP 2019, pp. 6675-6679, '
    "doi:10.1109/ICASSP.2019.8682154"
)

#: The paper preset. Filter counts are not in the paper's text (Fig. 2 only): they are
#: those of the same group's RLC code (thuhcsi/IJCAI2019-DRL4SER; 32 k10, 64 k5, 128 k5,
#: 256 k3, 512 k3, two residual units per group). Groups 4 and 5 do not stride and are 2-
#: and 4-dilated (Sec. 2.1). Striding: the text's granularities (10 ms frames -> 40 ms
#: steps for DRN, 160 ms for the plain CNN) need four strided groups in the CNN and two in
#: DRN, so group 1 (the single input convolution) does not stride; the text's "first layer
#: of each group" would give five. Self-attention "at each group level" (Sec. 2.2): in
#: every group with residual blocks, 2-5. One LSTM, a three-layer 256-unit dense classifier
#: (as RLC's; the paper says "stacked dense layers"), Adam at 1e-4 (Sec. 3.1). Batch size
#: and epochs are not in the paper.
DEFAULTS: dict[str, object] = {
    # architecture (serbench_drn.model)
    "channels": [32, 64, 128, 256, 512],
    "kernels": [10, 5, 5, 3, 3],
    "strides": [1, 2, 2, 1, 1],
    "dilations": [1, 1, 1, 2, 4],
    "units": [0, 2, 2, 2, 2],
    "attention_groups": [2, 3, 4, 5],
    "self_attention": True,
    "heads": 4,
    "residual": True,
    # not in the paper; the authors' RLC code drops 0.5 after every conv layer, with which
    # training loss does not move on nEMO (docs/training.md, DRN's front end): 0.1
    "conv_dropout": 0.1,
    "attention_dropout": 0.1,
    "hidden_size": 256,
    "lstm_layers": 1,
    "dense_units": 256,
    "dense_layers": 3,
    "dropout": 0.5,
    # balance to a parameter count by searching hidden_size (e.g. "9M"); every variant
    # sets the paper's 9.9M (PAPER_PARAMS); None: hidden_size as given
    "params": None,
    # training (serbench.training.config.TrainingConfig); grad_clip is serbench's (README)
    "lr": 1e-4,
    "optimizer": "adam",
    "batch_size": 32,
    "max_epochs": 60,
    "patience": 10,
    "grad_clip": 5.0,
    # dropout sits before batch norm: recompute its statistics with dropout off (README)
    "bn_recalibration": True,
}

#: DRN's size (Table 1, "The proposed"). The paper balances its comparison systems'
#: filters/units to it (Sec. 3.2) but gives no count for Table 2's ablations; serbench
#: balances every ablation to it too, through the LSTM width, so that what a row adds
#: (residual skips, dilation, attention) is not extra capacity.
PAPER_PARAMS = "9.9M"

#: The plain CNN's striding: four strided groups, 10 ms -> 160 ms (Sec. 2.1).
_CNN = {"strides": [1, 2, 2, 2, 2], "dilations": [1, 1, 1, 1, 1]}

#: Table 2's systems, as overrides of DEFAULTS.
VARIANTS: dict[str, dict[str, object]] = {
    "baseline": {**_CNN, "residual": False, "self_attention": False, "params": PAPER_PARAMS},
    "s1": {**_CNN, "residual": True, "self_attention": False, "params": PAPER_PARAMS},
    "s2": {"residual": True, "self_attention": False, "params": PAPER_PARAMS},
    "s3": {"residual": True, "self_attention": True, "heads": 1, "params": PAPER_PARAMS},
    "s4": {"residual": True, "self_attention": True, "heads": 4, "params": PAPER_PARAMS},
}


def _row(variant: str, ua: float, f1: float, label: str) -> PaperResult:
    return PaperResult(variant=variant, corpus="iemocap", metrics={"ua": ua, "f1": f1}, label=label)


#: IEMOCAP 4-class, 10-fold cross-validation: Table 2, then Table 1's comparison systems.
PAPER_RESULTS: tuple[PaperResult, ...] = (
    _row("baseline", 60.3, 0.599, "Table 2 baseline, plain CNN"),
    _row("s1", 61.8, 0.621, "Table 2 S1, + residual"),
    _row("s2", 63.1, 0.637, "Table 2 S2, + dilation"),
    _row("s3", 66.9, 0.670, "Table 2 S3, + single-head self-attention"),
    _row("s4", 67.4, 0.671, "Table 2 S4 = DRN, multi-head self-attention, 9.9M"),
    _row("xia_dnn", 60.3, 0.599, "Table 1, Xia 2017, 9.5M (reported 60.1)"),
    _row("poria_cnn", 60.5, 0.602, "Table 1, Poria 2016, 9.3M (reported 61.3)"),
    _row("poria_lstm", 56.8, 0.571, "Table 1, Poria 2017, 9.4M (reported 57.1)"),
    _row("bilstm_att", 59.7, 0.589,
         "Table 1, Mirsamadi 2017, paper 9.6M; serbench's is unbalanced, ~0.15M (reported 58.8)"),
)

#: The paper protocol: 17 LLDs at 40 ms / 10 ms, IEMOCAP 4-class, 10-fold cross-validation.
#: The paper does not say its folds are speaker-independent; serbench groups them by
#: speaker (on IEMOCAP's 10 speakers that is leave-one-speaker-out).
PREFERRED: dict[str, object] = {
    "corpus": "iemocap",
    "feature": "lld17_drn",
    "label_map": "4class",
    "protocol": "kfold",
    "protocol_options": {"k": 10, "grouped": "speaker"},
    "normalisation": "speaker",
    "metrics": ("ua", "macro_f1"),
}

GRIDS: dict[str, dict[str, tuple[object, ...]]] = {"heads": {"heads": (1, 2, 4, 8)}}

DRN = ModelSpec(
    name="drn",
    version=3,
    description="DRN: dilated residual CNN with multi-head self-attention, LSTM, dense classifier",
    citation=CITATION,
    builder="serbench_drn.model:build",
    framework="torch",
    level="frames",
    default_feature="lld17_drn",
    defaults=DEFAULTS,
    variants=VARIANTS,
    default_variant="s4",
    search_space="serbench_drn.search:search_space",
    grids=GRIDS,
    preferred=PREFERRED,
    paper_results=PAPER_RESULTS,
)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register ``drn`` (see serbench.hookspecs.register_models)."""
    register(DRN)
