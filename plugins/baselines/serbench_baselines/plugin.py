"""Registers ``xia_dnn``, ``poria_cnn``, ``poria_lstm`` (entry point ``serbench: baselines``)
and their acoustic + lexical versions ``<name>_al`` with ``bilstm_att_al`` (RLC Table 1).

The comparison systems of Table 1 of both RLC (Li et al., IJCAI 2019) and DRN (Li et al.,
ICASSP 2019); the fourth, Mirsamadi et al. (2017), is serbench's core ``bilstm_att``.
Light on purpose: no torch import. ``--set params=9M`` balances a model's width to a
parameter count, as both papers did (9.3M-9.5M in DRN's Table 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from serbench import hookimpl
from serbench.components import ModelSpec
from serbench.models.plugin import BILSTM_ATT

XIA = (
    'R. Xia and Y. Liu, "A multi-task learning framework for emotion recognition using 2D '
    'continuous space", IEEE Transactions on Affective Computing 8(1):3-14, 2017'
)
PORIA_2016 = (
    'S. Poria, I. Chaturvedi, E. Cambria and A. Hussain, "Convolutional MKL based multimodal '
    'emotion recognition and sentiment analysis", ICDM 2016, pp. 439-448'
)
PORIA_2017 = (
    'S. Poria, E. Cambria, D. Hazarika, N. Majumder, A. Zadeh and L.-P. Morency, '
    '"Context-dependent sentiment analysis in user-generated videos", ACL 2017, pp. 873-883'
)

#: Training as RLC's comparisons (Adam 1e-3, batch 128); widths before balancing.
_TRAINING: dict[str, object] = {
    "lr": 1e-3,
    "optimizer": "adam",
    "batch_size": 128,
    "max_epochs": 50,
    "patience": 10,
    "grad_clip": 5.0,
}

#: Same inputs and protocol as RLC (the papers ran the comparisons on their own features).
PREFERRED: dict[str, object] = {
    "corpus": "iemocap",
    "feature": "lld17",
    "label_map": "4class",
    "protocol": "loso",
    "normalisation": "speaker",
}

#: ``paper`` (the default variant) balances the width to the size DRN's Table 1 reports;
#: ``--variant`` none is not offered, use ``--set params=null`` for the unbalanced preset.
XIA_DNN = ModelSpec(
    name="xia_dnn", version=1, citation=XIA,
    description="Xia and Liu 2017: LLD statistics (mean, std, min, max) -> DNN",
    builder="serbench_baselines.models:build_xia_dnn", level="frames", default_feature="lld17",
    defaults={"width": 256, "layers": 3, "dropout": 0.5, "params": None, **_TRAINING},
    variants={"paper": {"params": "9.5M"}}, default_variant="paper",
    search_space="serbench_baselines.search:xia_dnn_space", preferred=PREFERRED,
)
PORIA_CNN = ModelSpec(
    name="poria_cnn", version=1, citation=PORIA_2016,
    description="Poria et al. 2016: temporal CNN with max-pooling over LLD frames -> dense",
    builder="serbench_baselines.models:build_poria_cnn", level="frames", default_feature="lld17",
    defaults={"width": 256, "conv_layers": 2, "kernel_size": 5, "dropout": 0.5, "params": None,
              **_TRAINING},
    variants={"paper": {"params": "9.3M"}}, default_variant="paper",
    search_space="serbench_baselines.search:poria_cnn_space", preferred=PREFERRED,
)
#: ``chrono_tmax``: the LSTM reads 400-800 raw 5 ms frames and, with PyTorch's
#: initialisation, stays at the class prior (issue 8); chrono initialisation for 500 steps
#: (serbench.nn.recurrent.chrono_init_; null: PyTorch's). Version 2: that initialisation.
PORIA_LSTM = ModelSpec(
    name="poria_lstm", version=2, citation=PORIA_2017,
    description="Poria et al. 2017: stacked LSTM over LLD frames, last output -> dense",
    builder="serbench_baselines.models:build_poria_lstm", level="frames", default_feature="lld17",
    defaults={"width": 256, "layers": 2, "dropout": 0.5, "chrono_tmax": 500, "params": None,
              **_TRAINING},
    variants={"paper": {"params": "9.4M"}}, default_variant="paper",
    search_space="serbench_baselines.search:poria_lstm_space", preferred=PREFERRED,
)


#: The transcript branch and classifier of ``rlc_al`` (serbench_baselines.lexical).
LEXICAL_DEFAULTS: dict[str, object] = {
    "acoustic_dim": 256, "embedding_dim": 300, "lexical_hidden": 256, "dense_units": 256,
    "dense_layers": 3,
}


def _with_lexical(spec: ModelSpec) -> ModelSpec:
    """RLC Table 1's A+L row of a comparison system: serbench's construction
    (:mod:`serbench_baselines.lexical`), same variants and training as its A row."""
    name = f"{spec.name}_al"
    return replace(
        spec, name=name, builder=f"serbench_baselines.lexical:build_{name}",
        inputs=("tokens",), defaults={**spec.defaults, **LEXICAL_DEFAULTS},
        description=f"{spec.name} + RLC's transcript branch (acoustic + lexical input; "
                    "serbench's construction)",
    )


#: RLC Table 1's A+L comparison systems (read transcripts: corpora with a transcript column)
LEXICAL_SYSTEMS = tuple(_with_lexical(s) for s in (XIA_DNN, PORIA_CNN, PORIA_LSTM, BILSTM_ATT))


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register the comparison systems (see serbench.hookspecs.register_models)."""
    for spec in (XIA_DNN, PORIA_CNN, PORIA_LSTM, *LEXICAL_SYSTEMS):
        register(spec)
