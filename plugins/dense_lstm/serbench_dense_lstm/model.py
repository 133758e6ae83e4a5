"""Attention-based dense LSTM (Xie, Liang, Liang and Zhao, IEICE 2019, Fig. 1, eqs. 5-7).

N stacked unidirectional LSTM layers; every layer ``i`` reaches the dense layer through
a skip connection carrying a summary ``d_i`` of its output sequence ``h_i`` (T x d_i).
The four variants of Tables 2-3 differ only in ``d_i`` (eq. 7):

- ``lstm``: no skip connections; the dense layer sees ``h_{N,last}`` only.
- ``general``: ``d_i = h_{i,last}``, the last valid step of every layer.
- ``time`` (eq. 5): ``W_{t,i} = softmax_t(h_{N,last} W_i h_i^T)``, ``d_i = W_{t,i} h_i``:
  multiplicative (Luong "general") attention over time with the last layer's last
  output as the query.
- ``feature`` (eq. 6): ``W_{f,i} = softmax(V_i tanh(W_i h_i))`` is a (T x d_i) weight
  for every element of ``h_i`` and ``d_i = sum_t W_{f,i} o h_i``. The paper does not say
  over which axis the softmax runs; it says eq. 6 "references" Lin et al. (2017, "A
  structured self-attentive sentence embedding"), whose ``A = softmax(W_s2 tanh(W_s1
  H^T))`` normalises over the sequence. ``feature_softmax="time"`` (default, Lin et al.'s
  axis: each feature's weights are a distribution over the valid frames, so ``d_i`` is a
  feature-wise weighted mean whose scale does not grow with the length) or ``"feature"``
  (each frame's weights are a distribution over its d_i features; the sum over frames
  then grows with the utterance's length).

The concatenation ``D = [d_1, ..., d_N]`` goes through one fully connected layer
(``dense_units``, 128 in Table 1) and a softmax layer to the C classes.

Padding: the LSTMs are unidirectional (a frame never sees a later one), the last
step is the last *valid* one, and every softmax/sum over time is masked, so padded
frames never change an output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.masking import last_valid, masked_softmax
from serbench.run.options import int_list
from torch import nn

MODES = ("lstm", "general", "time", "feature")
FEATURE_SOFTMAX = ("feature", "time")


class TimeAttention(nn.Module):
    """Eq. 5: ``W_{t,i} = softmax_t(h_{N,last} W_i h_i^T)``; returns ``W_{t,i} h_i``.

    Args:
        d_i: width of layer i's output.
        d_n: width of the last layer's output (the query ``h_{N,last}``).
    """

    def __init__(self, d_i: int, d_n: int):
        super().__init__()
        self.W_i = nn.Linear(d_i, d_n, bias=False)  # W_i of eq. 5, (d_N x d_i)

    def forward(
        self, h_i: torch.Tensor, query: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """h_i: (B, T, d_i); query h_{N,last}: (B, d_N); mask: (B, T) bool.

        Returns (d_i: (B, d_i), weights W_{t,i}: (B, T), zero on padding)."""
        scores = torch.bmm(self.W_i(h_i), query.unsqueeze(-1)).squeeze(-1)  # (B, T)
        weights = masked_softmax(scores, mask, dim=-1)
        return torch.bmm(weights.unsqueeze(1), h_i).squeeze(1), weights


class FeatureAttention(nn.Module):
    """Eq. 6: ``W_{f,i} = softmax(V_i tanh(W_i h_i))``; returns ``sum_t W_{f,i} o h_i``.

    Args:
        d_i: width of layer i's output.
        d_a: width of the hidden scoring layer (rows of ``W_i``; the paper gives none,
            default ``d_i``).
        softmax_over: ``"time"`` (each feature's weights sum to 1 over the valid frames,
            Lin et al.'s axis) or ``"feature"`` (each frame's weights sum to 1 over its
            d_i features).
    """

    def __init__(self, d_i: int, d_a: int, softmax_over: str = "time"):
        super().__init__()
        if softmax_over not in FEATURE_SOFTMAX:
            raise ConfigError(
                f"feature_softmax {softmax_over!r}: choose one of {', '.join(FEATURE_SOFTMAX)}"
            )
        self.W_i = nn.Linear(d_i, d_a, bias=False)  # W_i of eq. 6, (d_a x d_i)
        self.V_i = nn.Linear(d_a, d_i, bias=False)  # V_i of eq. 6, (d_i x d_a)
        self.softmax_over = softmax_over

    def forward(
        self, h_i: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """h_i: (B, T, d_i); mask: (B, T) bool.

        Returns (d_i: (B, d_i), weights W_{f,i}: (B, T, d_i), zero on padding)."""
        scores = self.V_i(torch.tanh(self.W_i(h_i)))  # (B, T, d_i)
        valid = mask.unsqueeze(-1)  # (B, T, 1)
        if self.softmax_over == "feature":
            weights = torch.softmax(scores, dim=-1) * valid.to(scores.dtype)
        else:
            weights = masked_softmax(scores, valid.expand_as(scores), dim=1)
        return (weights * h_i).sum(1), weights  # sum over valid t of W_f o h_i


class DenseLSTM(nn.Module):
    """Stacked LSTMs with (attention-weighted) skip connections to a dense layer.

    Args:
        feature_dim: D, frame size.
        num_classes: C.
        cells: LSTM sizes per layer, bottom first (Table 1 "Lstm cells", e.g. [256, 256]).
        mode: ``lstm``, ``general``, ``time`` or ``feature`` (eq. 7).
        dense_units: hidden units of the dense layer (Table 1 "Dense layers", 128).
        dropout: dropout on every LSTM output and on the dense layer (the paper: none).
        feature_softmax: softmax axis of eq. 6 (``time`` or ``feature``), ``feature`` mode.
        attention_size: d_a of eq. 6 (None: d_i).
        forget_bias: initial bias of every LSTM's forget gate (1.0, the default of
            TensorFlow's and Keras's LSTM cells, which helps the last step remember the
            start of a long utterance; 0 is torch's default).
    """

    def __init__(
        self,
        feature_dim: int,
        num_classes: int,
        *,
        cells: Sequence[int],
        mode: str,
        dense_units: int = 128,
        dropout: float = 0.0,
        feature_softmax: str = "time",
        attention_size: int | None = None,
        forget_bias: float = 1.0,
    ):
        super().__init__()
        if mode not in MODES:
            raise ConfigError(f"dense_lstm mode {mode!r}: choose one of {', '.join(MODES)}")
        cells = [int(c) for c in cells]
        if not cells or min(cells) < 1:
            raise ConfigError(f"dense_lstm cells {cells!r}: give one or more positive LSTM sizes")
        self.mode = mode
        sizes = [feature_dim, *cells]
        self.lstms = nn.ModuleList(
            nn.LSTM(sizes[i], sizes[i + 1], batch_first=True) for i in range(len(cells))
        )
        for lstm in self.lstms:  # gate order i, f, g, o: the forget gate is the 2nd block
            with torch.no_grad():
                h = lstm.hidden_size
                lstm.bias_ih_l0[h : 2 * h].fill_(forget_bias)
                lstm.bias_hh_l0[h : 2 * h].zero_()
        self.attention: nn.ModuleList | None = None
        if mode == "time":
            self.attention = nn.ModuleList(TimeAttention(c, cells[-1]) for c in cells)
        elif mode == "feature":
            self.attention = nn.ModuleList(
                FeatureAttention(c, int(attention_size or c), feature_softmax) for c in cells
            )
        self.drop = nn.Dropout(dropout)
        dense_in = cells[-1] if mode == "lstm" else sum(cells)
        self.dense = nn.Sequential(nn.Linear(dense_in, dense_units), nn.ReLU(), nn.Dropout(dropout))
        self.classifier = nn.Linear(dense_units, num_classes)  # softmax layer [128, C]

    def layer_outputs(self, x: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """x: (B, T, D), mask: (B, T) -> [h_1 .. h_N], each (B, T, d_i), zero on padding.

        The LSTMs are unidirectional, so a valid step never sees the padding after it:
        running over the padded batch (faster on CPU than packing) gives the same valid
        outputs; the padded ones are zeroed."""
        outputs = []
        h = x
        keep = mask.unsqueeze(-1).to(x.dtype)
        for lstm in self.lstms:
            h, _ = lstm(h)
            h = self.drop(h) * keep
            outputs.append(h)
        return outputs

    def summaries(
        self, batch: Batch
    ) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
        """Per layer ``d_i`` (B, d_i) of eq. 7 and its attention weights (or None)."""
        mask = batch.mask[:, : batch.x.shape[1]]
        hs = self.layer_outputs(batch.x, mask)
        last = [last_valid(h, batch.lengths) for h in hs]
        if self.mode == "lstm":
            return [last[-1]], [None]
        if self.mode == "general":
            return last, [None] * len(hs)
        assert self.attention is not None
        pieces, weights = [], []
        for h_i, att in zip(hs, self.attention, strict=True):
            if self.mode == "time":
                d_i, w = att(h_i, last[-1], mask)
            else:
                d_i, w = att(h_i, mask)
            pieces.append(d_i)
            weights.append(w)
        return pieces, weights

    def forward(self, batch: Batch) -> torch.Tensor:
        """batch.x: (B, T, D), batch.lengths: (B,), batch.mask: (B, T) -> logits (B, C)."""
        pieces, _ = self.summaries(batch)
        return self.classifier(self.dense(torch.cat(pieces, dim=-1)))

    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        """``layer<i>`` -> (B, T) weights over frames (``time`` mode: eq. 5's W_{t,i};
        ``feature`` mode: eq. 6's weights summed over features and renormalised over
        time). ``lstm``/``general`` have no attention: a ConfigError says so."""
        if self.mode not in ("time", "feature"):
            raise ConfigError(
                f"dense_lstm mode {self.mode!r} has no attention weights to show; explain a "
                "run of the 'time' or 'feature' variant"
            )
        _, weights = self.summaries(batch)
        maps: dict[str, torch.Tensor] = {}
        for i, w in enumerate(weights, start=1):
            if w is None:
                continue
            if w.dim() == 3:
                w = w.sum(-1)
                w = w / w.sum(-1, keepdim=True).clamp_min(1e-12)
            maps[f"layer{i}"] = w
        return maps


def parse_cells(value: Any) -> list[int]:
    """LSTM sizes from a list, an int or a ``"256,256"`` string (Optuna's choices)."""
    return int_list(value, name="dense_lstm cells", example="256,256")


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> DenseLSTM:
    """serbench builder: ``cells``, ``mode``, ``dense_units``, ``dropout``,
    ``feature_softmax``, ``attention_size`` and ``forget_bias`` from ``hparams``."""
    if spec.level != "frames":
        raise ConfigError(
            "dense_lstm reads frame-level features (B, T, D); choose a frames feature such "
            "as compare_lld"
        )
    cells = parse_cells(hparams.get("cells", [256, 256]))
    attention_size = hparams.get("attention_size")
    return DenseLSTM(
        spec.feature_dim,
        spec.num_classes,
        cells=list(cells),
        mode=str(hparams.get("mode", "feature")),
        dense_units=int(hparams.get("dense_units", 128)),
        dropout=float(hparams.get("dropout", 0.0)),
        feature_softmax=str(hparams.get("feature_softmax", "time")),
        attention_size=None if attention_size is None else int(attention_size),
        forget_bias=float(hparams.get("forget_bias", 1.0)),
    )
