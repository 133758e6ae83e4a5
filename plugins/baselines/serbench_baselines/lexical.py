"""The comparison systems with acoustic + lexical input: RLC's Table 1 "A+L" rows.

serbench's construction (the RLC paper does not say how it added the lexical input to
the comparison systems): each system's acoustic network is built as for the "A" rows,
with its output layer widened from C logits to an ``acoustic_dim``-unit representation
(256 = RLC's F^(I)); RLC's own transcript branch (:class:`serbench_rlc.model.LexicalBranch`:
embedding -> LSTM -> last output RT, 256 units) reads the tokens; ``[acoustic; RT]`` goes
through the classifier ``rlc_al`` uses (``dense_layers`` x ``dense_units`` ReLU layers
with dropout, then the logits). So every A+L row differs from ``rlc_al`` in its acoustic
network only. ``params`` balances the acoustic network as for the "A" rows; the lexical
branch and classifier are outside the count, as in ``rlc_al``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.lazy import resolve
from serbench.nn.blocks import DenseStack
from torch import nn

#: A+L model name -> the builder of its acoustic system (an "A" row's model)
ACOUSTIC_BUILDERS: dict[str, str] = {
    "xia_dnn_al": "serbench_baselines.models:build_xia_dnn",
    "poria_cnn_al": "serbench_baselines.models:build_poria_cnn",
    "poria_lstm_al": "serbench_baselines.models:build_poria_lstm",
    "bilstm_att_al": "serbench.models.bilstm_att:build",
}


class AcousticLexical(nn.Module):
    """An acoustic system and RLC's transcript branch, concatenated, then classified.

    Args:
        acoustic: maps a batch to (B, acoustic_dim) (a system whose output layer has
            ``acoustic_dim`` units instead of C).
        lexical: RLC's ``LexicalBranch`` (tokens -> (B, H_L)).
        acoustic_dim: the acoustic representation's size.
        num_classes: C.
        dense_units, dense_layers, dropout: the classifier, as ``rlc_al``'s.
    """

    def __init__(self, acoustic: nn.Module, lexical: nn.Module, acoustic_dim: int,
                 num_classes: int, *, dense_units: int = 256, dense_layers: int = 3,
                 dropout: float = 0.5):
        super().__init__()
        self.acoustic, self.lexical = acoustic, lexical
        self.classifier = DenseStack(acoustic_dim + int(lexical.out_dim), dense_units,
                                     num_classes, layers=dense_layers, dropout=dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        """batch.x: (B, T, D), batch.lengths: (B,), batch.extras["tokens"]: (B, K) long,
        batch.extras["token_lengths"]: (B,) -> (B, C) logits."""
        a = self.acoustic(batch)
        t = self.lexical(batch.extras["tokens"], batch.extras["token_lengths"])
        return self.classifier(torch.cat([a, t], dim=-1))


def _builder(name: str) -> Callable[[InputSpec, Mapping[str, Any]], nn.Module]:
    def build(spec: InputSpec, hparams: Mapping[str, Any]) -> nn.Module:
        from serbench_rlc.model import LexicalBranch

        if not spec.vocab_size:
            raise ConfigError(f"{name} reads transcript tokens; run it on a corpus with a "
                              "'transcript' column")
        size = int(hparams.get("acoustic_dim", 256))
        acoustic = resolve(ACOUSTIC_BUILDERS[name])(
            replace(spec, num_classes=size, vocab_size=None), hparams)
        lexical = LexicalBranch(spec.vocab_size, int(hparams.get("embedding_dim", 300)),
                                int(hparams.get("lexical_hidden", 256)))
        return AcousticLexical(acoustic, lexical, size, spec.num_classes,
                               dense_units=int(hparams.get("dense_units", 256)),
                               dense_layers=int(hparams.get("dense_layers", 3)),
                               dropout=float(hparams.get("dropout", 0.5)))

    build.__name__ = f"build_{name}"
    build.__doc__ = (f"{name}: the acoustic system of {ACOUSTIC_BUILDERS[name]} plus RLC's "
                     "transcript branch (module docstring); its hyperparameters plus "
                     "acoustic_dim, embedding_dim, lexical_hidden, dense_units, dense_layers.")
    return build


build_xia_dnn_al = _builder("xia_dnn_al")
build_poria_cnn_al = _builder("poria_cnn_al")
build_poria_lstm_al = _builder("poria_lstm_al")
build_bilstm_att_al = _builder("bilstm_att_al")
