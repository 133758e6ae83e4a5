"""DRN: dilated residual network with multi-head self-attention (Li et al., ICASSP 2019).

::

    frames (B, T, 17) ──> five groups of temporal convolutions (Sec. 2.1, Fig. 2): groups
                          2-3 stride by 2 (10 ms frames -> 40 ms steps); groups 4 and 5
                          do not stride and are 2- and 4-dilated (eq. 2); multi-head
                          self-attention (r = 4 heads, eqs. 3-4, Fig. 2c) in the residual
                          blocks of every group that has them (2-5)
                      ──> LSTM (eqs. 5-9), last output h_N (B, 256)       (Sec. 2.3)
                      ──> stacked dense layers ──> logits (B, C)

The convolutional front end is serbench's shared :class:`serbench.nn.resconv.ConvFrontEnd`
(the same as RLC's); the keys are those of ``ConvFrontEnd.from_hparams`` plus
``self_attention`` (bool), ``hidden_size``, ``lstm_layers``, ``dense_units``,
``dense_layers``, ``dropout``. Table 2's ablations switch ``residual``, the strides and
dilations, and ``self_attention``/``heads`` (see ``serbench_drn.plugin.VARIANTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.blocks import DenseStack, LSTMEncoder
from serbench.nn.resconv import ConvFrontEnd
from serbench.nn.sizing import fit_width
from torch import nn


class DRN(nn.Module):
    """Conv front end -> LSTM -> dense classifier; see the module docstring."""

    def __init__(self, spec: InputSpec, hp: Mapping[str, Any]):
        super().__init__()
        self.frontend = ConvFrontEnd.from_hparams(
            spec.feature_dim, hp, attention=bool(hp.get("self_attention", True))
        )
        self.lstm = LSTMEncoder(self.frontend.out_dim, int(hp.get("hidden_size", 256)),
                                layers=int(hp.get("lstm_layers", 1)))
        self.classifier = DenseStack(self.lstm.out_dim, int(hp.get("dense_units", 256)),
                                     spec.num_classes, layers=int(hp.get("dense_layers", 3)),
                                     dropout=float(hp.get("dropout", 0.5)))

    def forward(self, batch: Batch) -> torch.Tensor:
        """Emotion logits.

        Args:
            batch: ``x`` (B, T, D) frames, ``lengths`` (B,).
        Returns:
            (B, C) logits.
        """
        m, lengths = self.frontend(batch.x, batch.lengths)  # (B, N, C_last)
        return self.classifier(self.lstm(m, lengths)[0])

    @torch.no_grad()
    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        """``self_attention/g<l>u<i>``: (B, r, N_l, N_l) head correlation matrices of the
        self-attention in unit i of group l (see :mod:`serbench.explain`)."""
        self.forward(batch)
        return {
            f"self_attention/{name}": module.last_weights
            for name, module in self.frontend.attention_modules().items()
            if module.last_weights is not None
        }


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> DRN:
    """Build DRN (or an ablation) for frame-level input.

    ``params`` (e.g. ``"9.9M"``, which every Table 2 variant sets) balances the model to a
    parameter count by searching ``hidden_size`` (the LSTM width); None keeps
    ``hidden_size``.
    """
    if spec.level != "frames":
        raise ConfigError("drn reads frames (T x D); choose a frame-level feature such as lld17_drn")
    target = hparams.get("params")
    if target not in (None, "", "none"):
        # Balance to a parameter count (the papers' Tables 1-2): search the LSTM width.
        width = fit_width(lambda w: DRN(spec, {**hparams, "hidden_size": w}), target)
        hparams = {**hparams, "hidden_size": width}
    return DRN(spec, hparams)
