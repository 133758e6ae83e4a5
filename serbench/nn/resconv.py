"""A masked residual 1-D convolutional front end, with optional dilation and self-attention.

Shared by the RLC (Li et al., IJCAI 2019, Sec. 3.1-3.2, Fig. 2) and DRN (Li et al.,
ICASSP 2019, Sec. 2.1-2.2, Fig. 2) models and their ablations, and by the plain CNN
baseline of DRN's Table 2. Five groups ``G^l`` of temporal convolutions (eq. 1; eq. 2 for
k-dilated ones), batch normalisation, and the first layer of a group striding by 2.

One group follows the authors' published code (thuhcsi/IJCAI2019-DRL4SER,
``emotion_inferring/model/modules.py``, ``CNN_block``): a (possibly strided) input
convolution, then ``units`` residual units, each::

    y = layer(x); y = y + MHSA(y) (when attention); y = layer(y); out = x + y

with ``layer`` = conv -> batch norm -> ReLU -> dropout. Without ``residual`` (plain CNN)
the ``+ x`` skips are dropped. A group with ``units=0`` is its input convolution followed
by batch norm and ReLU (the authors' first layer: 32 filters, kernel 10).

Padding never changes valid outputs: every layer zeroes padded frames, convolutions pad
with zeros exactly as an unpadded sequence would be padded, a stride-``s`` layer maps
``L`` valid frames to ``ceil(L / s)``, and batch statistics are computed over valid
frames only (:class:`MaskedBatchNorm1d`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from serbench.nn.attention import MultiHeadSelfAttention
from serbench.nn.masking import lengths_to_mask


def _zero_pad(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return x * mask.unsqueeze(-1).to(x.dtype)


class MaskedConv1d(nn.Module):
    """Temporal convolution over (B, T, C) frames whose padding never leaks into valid ones.

    Args:
        in_channels, out_channels: C_in, C_out.
        kernel_size: filter length.
        stride: 1, or 2 for the first layer of a group.
        dilation: k of a k-dilated convolution (DRN eq. 2).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *,
                 stride: int = 1, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride,
                              dilation=dilation)
        self.stride = stride
        span = (kernel_size - 1) * dilation
        # "same" padding: left + right = span; the output has ceil(T / stride) frames.
        self.pad = (span // 2, span - span // 2)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Args: x (B, T, C_in) zero on padding; lengths (B,). Returns (B, ceil(T/s), C_out)
        zero on padding, and the new lengths (B,) = ceil(lengths / s)."""
        y = self.conv(F.pad(x.transpose(1, 2), self.pad)).transpose(1, 2)
        new_lengths = (lengths + self.stride - 1) // self.stride
        y = y[:, : (x.shape[1] + self.stride - 1) // self.stride]
        return _zero_pad(y, lengths_to_mask(new_lengths, y.shape[1])), new_lengths


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch normalisation of (B, T, C) frames with statistics over valid frames only."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Args: x (B, T, C); mask (B, T) bool. Returns (B, T, C), zero on padding."""
        m = mask.unsqueeze(-1).to(x.dtype)
        if self.training:
            n = m.sum().clamp_min(1.0)
            mean = (x * m).sum((0, 1)) / n
            var = (((x - mean) ** 2) * m).sum((0, 1)) / n
            if self.track_running_stats and self.running_mean is not None:
                with torch.no_grad():
                    unbiased = var * n / (n - 1).clamp_min(1.0)
                    self.num_batches_tracked += 1
                    # momentum None: the cumulative average, as nn.BatchNorm1d (used by
                    # serbench.training.batch_norm to recompute the statistics)
                    factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                              else self.momentum)
                    self.running_mean.lerp_(mean, factor)
                    self.running_var.lerp_(unbiased, factor)
        else:
            mean, var = self.running_mean, self.running_var
        y = (x - mean) / torch.sqrt(var + self.eps)
        if self.affine:
            y = y * self.weight + self.bias
        return y * m


class ConvLayer(nn.Module):
    """conv -> masked batch norm -> ReLU -> dropout (the authors' ``Creat_CNN_layer``)."""

    def __init__(self, channels: int, kernel_size: int, *, dilation: int = 1, dropout: float = 0.0):
        super().__init__()
        self.conv = MaskedConv1d(channels, channels, kernel_size, dilation=dilation)
        self.norm = MaskedBatchNorm1d(channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C), lengths (B,), mask (B, T) -> (B, T, C) zero on padding."""
        y, _ = self.conv(x, lengths)
        return _zero_pad(self.dropout(torch.relu(self.norm(y, mask))), mask)


class ResidualUnit(nn.Module):
    """``x + layer(layer(x) + MHSA(layer(x)))`` (Fig. 2b of RLC; Fig. 2c of DRN)."""

    def __init__(self, channels: int, kernel_size: int, *, dilation: int, dropout: float,
                 heads: int, attention: bool, residual: bool, attention_dropout: float):
        super().__init__()
        self.first = ConvLayer(channels, kernel_size, dilation=dilation, dropout=dropout)
        self.second = ConvLayer(channels, kernel_size, dilation=dilation, dropout=dropout)
        self.attention = (
            MultiHeadSelfAttention(channels, heads, dropout=attention_dropout) if attention else None
        )
        self.residual = residual

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C), zero on padding."""
        y = self.first(x, lengths, mask)
        if self.attention is not None:
            y = y + self.attention(y, mask)  # the attention block is itself residual
        y = self.second(y, lengths, mask)
        return x + y if self.residual else y


class ConvGroup(nn.Module):
    """One group ``G^l``: a (strided) input convolution, then ``units`` residual units."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, *, stride: int,
                 dilation: int, units: int, attention: bool, heads: int, residual: bool,
                 dropout: float, attention_dropout: float):
        super().__init__()
        self.entry = MaskedConv1d(in_channels, channels, kernel_size, stride=stride,
                                  dilation=dilation)
        self.entry_norm = MaskedBatchNorm1d(channels) if units == 0 else None
        self.units = nn.ModuleList(
            ResidualUnit(channels, kernel_size, dilation=dilation, dropout=dropout, heads=heads,
                         attention=attention, residual=residual,
                         attention_dropout=attention_dropout)
            for _ in range(units)
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T, C_in), lengths (B,) -> (B, ceil(T/stride), C), new lengths (B,)."""
        x, lengths = self.entry(x, lengths)
        mask = lengths_to_mask(lengths, x.shape[1])
        if self.entry_norm is not None:
            x = torch.relu(self.entry_norm(x, mask))
        for unit in self.units:
            x = unit(x, lengths, mask)
        return x, lengths


class ConvFrontEnd(nn.Module):
    """Five (or any number of) groups of masked temporal convolutions (RLC/DRN Fig. 2).

    Args:
        feature_dim: D of the input frames.
        channels: filters per group (paper preset, from the authors' code: 32, 64, 128, 256, 512).
        kernels: kernel size per group (10, 5, 5, 3, 3).
        strides: stride of each group's first layer (RLC: all 2; DRN: 1, 2, 2, 1, 1).
        dilations: dilation per group (DRN: 1, 1, 1, 2, 4).
        units: residual units per group (0 = a single conv + BN + ReLU; preset 0, 2, 2, 2, 2).
        attention: whether a group's units hold multi-head self-attention (RLC: groups
            3-5; DRN: 2-5).
        heads: r, attention heads (4; DRN's S3 ablation: 1).
        residual: residual skips (False: DRN's plain CNN baseline).
        dropout: dropout after each conv layer (the authors' code: 0.5).
        attention_dropout: dropout on attention weights (the authors' code: 0.1).
    """

    def __init__(self, feature_dim: int, *, channels: Sequence[int], kernels: Sequence[int],
                 strides: Sequence[int], dilations: Sequence[int], units: Sequence[int],
                 attention: Sequence[bool], heads: int = 4, residual: bool = True,
                 dropout: float = 0.0, attention_dropout: float = 0.0):
        super().__init__()
        n = len(channels)
        for name, seq in [("kernels", kernels), ("strides", strides), ("dilations", dilations),
                          ("units", units), ("attention", attention)]:
            if len(seq) != n:
                raise ValueError(f"{name} has {len(seq)} entries; channels has {n} groups")
        groups, size = [], feature_dim
        for c, k, s, d, u, a in zip(channels, kernels, strides, dilations, units, attention, strict=True):
            groups.append(ConvGroup(size, int(c), int(k), stride=int(s), dilation=int(d),
                                    units=int(u), attention=bool(a), heads=heads,
                                    residual=residual, dropout=dropout,
                                    attention_dropout=attention_dropout))
            size = int(c)
        self.groups = nn.ModuleList(groups)
        self.out_dim = size

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Suprasegmental features.

        Args:
            x: (B, T, D) frames, zero-padded after ``lengths``.
            lengths: (B,) long.
        Returns:
            (B, T', C_last) features, zero on padding, and their lengths (B,),
            T' = T / prod(strides) rounded up.
        """
        x = _zero_pad(x, lengths_to_mask(lengths, x.shape[1]))
        for group in self.groups:
            x, lengths = group(x, lengths)
        return x, lengths

    @classmethod
    def from_hparams(cls, feature_dim: int, hp: Mapping[str, Any], *, attention: bool = True
                     ) -> ConvFrontEnd:
        """Build from model hyperparameters: ``channels``, ``kernels``, ``strides``,
        ``dilations`` (default all 1), ``units``, ``attention_groups`` (1-based group numbers
        holding self-attention, used when ``attention``), ``heads``, ``residual``,
        ``conv_dropout``, ``attention_dropout``."""
        channels = [int(c) for c in hp["channels"]]
        groups = {int(g) for g in hp.get("attention_groups", ())}
        return cls(
            feature_dim,
            channels=channels,
            kernels=[int(k) for k in hp["kernels"]],
            strides=[int(s) for s in hp["strides"]],
            dilations=[int(d) for d in hp.get("dilations", [1] * len(channels))],
            units=[int(u) for u in hp["units"]],
            attention=[attention and (g + 1) in groups for g in range(len(channels))],
            heads=int(hp.get("heads", 4)),
            residual=bool(hp.get("residual", True)),
            dropout=float(hp.get("conv_dropout", 0.0)),
            attention_dropout=float(hp.get("attention_dropout", 0.0)),
        )

    def attention_modules(self) -> dict[str, MultiHeadSelfAttention]:
        """``"g<l>u<i>"`` -> the self-attention of unit i of group l (1-based), when present."""
        out = {}
        for gi, group in enumerate(self.groups, 1):
            for ui, unit in enumerate(group.units, 1):
                if unit.attention is not None:
                    out[f"g{gi}u{ui}"] = unit.attention
        return out
