"""The comparison systems of the RLC (IJCAI 2019) and DRN (ICASSP 2019) papers' Table 1.

All three read the same frame-level LLDs as RLC/DRN, as the papers' re-implementations
did, and can be balanced to a target parameter count with ``params`` (e.g. ``"9M"``):
the builder then searches ``width`` (:func:`serbench.nn.sizing.fit_width`).

- :class:`XiaDNN`: statistical functionals of the LLDs (mean, standard deviation,
  minimum, maximum over the valid frames) -> DNN (Xia and Liu, IEEE TAC 2017).
- :class:`PoriaCNN`: temporal convolutions with max-pooling, max over time -> dense
  (the CNN feature learner of Poria et al., ICDM 2016; the papers' re-implementation
  replaces the multiple-kernel-learning classifier with a softmax layer, as here).
- :class:`PoriaLSTM`: stacked LSTM over frames, last output -> dense (Poria et al., ACL
  2017, without the cross-utterance context, as both papers ran it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.blocks import DenseStack, LSTMEncoder
from serbench.nn.masking import lengths_to_mask, masked_mean
from serbench.nn.resconv import MaskedConv1d
from serbench.nn.sizing import fit_width
from torch import nn


def masked_functionals(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean, standard deviation, minimum and maximum of each LLD over valid frames.

    Args:
        x: (B, T, D); mask: (B, T) bool.
    Returns:
        (B, 4D).
    """
    m = mask.unsqueeze(-1)
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean.unsqueeze(1)) ** 2, mask)
    big = torch.finfo(x.dtype).max
    lo = x.masked_fill(~m, big).amin(1)
    hi = x.masked_fill(~m, -big).amax(1)
    return torch.cat([mean, torch.sqrt(var + 1e-8), lo, hi], dim=-1)


class XiaDNN(nn.Module):
    """Functionals -> ``layers`` hidden layers of ``width`` units -> logits."""

    def __init__(self, feature_dim: int, num_classes: int, *, width: int = 256, layers: int = 3,
                 dropout: float = 0.5):
        super().__init__()
        self.norm = nn.BatchNorm1d(4 * feature_dim)  # functionals differ wildly in scale
        self.dnn = DenseStack(4 * feature_dim, width, num_classes, layers=layers, dropout=dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        """batch.x: (B, T, D), batch.mask: (B, T) -> (B, C) logits."""
        return self.dnn(self.norm(masked_functionals(batch.x, batch.mask)))


class PoriaCNN(nn.Module):
    """``conv_layers`` x (conv k -> ReLU -> max-pool 2), max over time, dense -> logits."""

    def __init__(self, feature_dim: int, num_classes: int, *, width: int = 256,
                 conv_layers: int = 2, kernel_size: int = 5, dense_units: int | None = None,
                 dropout: float = 0.5):
        super().__init__()
        sizes = [feature_dim] + [width] * conv_layers
        self.convs = nn.ModuleList(
            MaskedConv1d(a, b, kernel_size) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.dense = DenseStack(width, dense_units or width, num_classes, layers=1, dropout=dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        """batch.x: (B, T, D), batch.lengths: (B,) -> (B, C) logits."""
        x, lengths = batch.x * batch.mask.unsqueeze(-1), batch.lengths
        for conv in self.convs:
            x, lengths = conv(x, lengths)
            x = torch.relu(x)  # >= 0 and 0 on padding, so zero-padding is max-neutral
            # ceil_mode: an odd last frame is pooled alone, as zero-padding it would give
            # (ReLU outputs); no Python branch on the length, so ONNX/TorchScript traces
            # hold for every length (a branch was baked in at the traced example's)
            x = F.max_pool1d(x.transpose(1, 2), 2, ceil_mode=True).transpose(1, 2)
            lengths = (lengths + 1) // 2
        mask = lengths_to_mask(lengths, x.shape[1]).unsqueeze(-1)
        pooled = x.masked_fill(~mask, 0.0).amax(1)  # ReLU outputs: 0 is the neutral floor
        return self.dense(pooled)


class PoriaLSTM(nn.Module):
    """``layers`` stacked LSTMs of ``width`` units, last output -> dense -> logits.

    ``chrono_tmax``: chrono-initialised gate biases for dependencies up to that many frames
    (:func:`serbench.nn.recurrent.chrono_init_`); None: PyTorch's initialisation.
    """

    def __init__(self, feature_dim: int, num_classes: int, *, width: int = 256, layers: int = 2,
                 dropout: float = 0.5, chrono_tmax: float | None = 500.0):
        super().__init__()
        self.lstm = LSTMEncoder(feature_dim, width, layers=layers, chrono_tmax=chrono_tmax)
        self.dense = DenseStack(width, width, num_classes, layers=1, dropout=dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        """batch.x: (B, T, D), batch.lengths: (B,) -> (B, C) logits."""
        return self.dense(self.lstm(batch.x, batch.lengths)[0])


def _balanced(make: Callable[[int], nn.Module], hparams: Mapping[str, Any]) -> nn.Module:
    target = hparams.get("params")
    width = int(hparams.get("width", 256))
    if target not in (None, "", "none"):
        width = fit_width(make, target)
    return make(width)


def _frames(spec: InputSpec, name: str) -> None:
    if spec.level != "frames":
        raise ConfigError(f"{name} reads frames (T x D); choose a frame-level feature such as lld17")


def build_xia_dnn(spec: InputSpec, hparams: Mapping[str, Any]) -> nn.Module:
    """``width``, ``layers``, ``dropout``; ``params`` balances ``width``."""
    _frames(spec, "xia_dnn")
    return _balanced(lambda w: XiaDNN(
        spec.feature_dim, spec.num_classes, width=w, layers=int(hparams.get("layers", 3)),
        dropout=float(hparams.get("dropout", 0.5))), hparams)


def build_poria_cnn(spec: InputSpec, hparams: Mapping[str, Any]) -> nn.Module:
    """``width``, ``conv_layers``, ``kernel_size``, ``dropout``; ``params`` balances ``width``."""
    _frames(spec, "poria_cnn")
    return _balanced(lambda w: PoriaCNN(
        spec.feature_dim, spec.num_classes, width=w,
        conv_layers=int(hparams.get("conv_layers", 2)),
        kernel_size=int(hparams.get("kernel_size", 5)),
        dropout=float(hparams.get("dropout", 0.5))), hparams)


def build_poria_lstm(spec: InputSpec, hparams: Mapping[str, Any]) -> nn.Module:
    """``width``, ``layers``, ``dropout``, ``chrono_tmax``; ``params`` balances ``width``."""
    _frames(spec, "poria_lstm")
    return _balanced(lambda w: PoriaLSTM(
        spec.feature_dim, spec.num_classes, width=w, layers=int(hparams.get("layers", 2)),
        dropout=float(hparams.get("dropout", 0.5)),
        chrono_tmax=hparams.get("chrono_tmax", 500)), hparams)
