"""``bilstm_att``: BiLSTM with attention-weighted pooling (Mirsamadi et al., ICASSP 2017).

"Automatic speech emotion recognition using recurrent neural networks with local
attention": frame-level LLDs go through a bidirectional LSTM; the frame outputs ``y_t``
are pooled with local attention (Sec. 3.3: ``alpha_t = softmax_t(u^T y_t)``,
``z = sum_t alpha_t y_t``, see :class:`serbench.nn.pooling.AttentionPooling`) and a
fully connected layer maps ``z`` to the emotion classes. It is the "BiLSTM+ATT" row of
Table 1 in Rajamani et al. (ICASSP 2021).

Input: the paper reads frame-level LLDs (``--feature emobase_lld``, v1's default). Since
v2 the default is ``egemapsv02_windows``, the eGeMAPS functionals of 1 s windows every
0.25 s: on nEMO's four training speakers the 10 ms frames over-fit, and validation UA
rose from 50.4 to 59.0% with the windows (docs/training.md, round 5).

The paper's frame-level DNN in front of the RNN is optional here (``fc_layers``,
default 0). Padding never changes the output: sequences are packed for the LSTM and
padded frames get zero attention weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from serbench.data.batch import Batch, InputSpec
from serbench.nn.pooling import AttentionPooling
from serbench.nn.recurrent import run_lstm


class BiLSTMAttention(nn.Module):
    """BiLSTM -> local attention pooling -> FC.

    Args:
        feature_dim: D, frame size.
        num_classes: C.
        hidden: LSTM cells per direction.
        layers: stacked LSTM layers.
        dropout: dropout on the pooled vector ``z`` (and between LSTM layers).
        fc_layers: frame-level fully connected ReLU layers of width ``hidden`` before
            the LSTM (the paper's optional front end).
        statistics: attentive statistics pooling (Okabe et al., Interspeech 2018): the
            pooled vector is ``[z, s]`` with ``s = sqrt(sum_t alpha_t y_t^2 - z^2)``, the
            attention-weighted standard deviation, next to the paper's weighted mean
            ``z`` (serbench's extension; off = the paper).
    """

    def __init__(
        self,
        feature_dim: int,
        num_classes: int,
        *,
        hidden: int = 128,
        layers: int = 1,
        dropout: float = 0.3,
        fc_layers: int = 0,
        statistics: bool = False,
    ):
        super().__init__()
        front: list[nn.Module] = []
        size = feature_dim
        for _ in range(fc_layers):
            front += [nn.Linear(size, hidden), nn.ReLU()]
            size = hidden
        self.front = nn.Sequential(*front)
        self.lstm = nn.LSTM(
            size,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.pool = AttentionPooling(2 * hidden)
        self.statistics = statistics
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear((4 if statistics else 2) * hidden, num_classes)

    def _encode(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Pooled ``z`` (B, 2H), or ``[z, s]`` (B, 4H) with ``statistics``, and attention
        ``alpha`` (B, T)."""
        x = self.front(batch.x)
        # y_t: (B, T, 2H) as a packed run gives it; padded steps are zero and get zero
        # attention weight.
        y = run_lstm(self.lstm, x, batch.lengths)
        z, alpha = self.pool(y, batch.mask)
        if not self.statistics:
            return z, alpha
        second = torch.bmm(alpha.unsqueeze(1), y * y).squeeze(1)  # sum_t alpha_t y_t^2
        s = (second - z * z).clamp(min=1e-6).sqrt()
        return torch.cat([z, s], dim=-1), alpha

    def forward(self, batch: Batch) -> torch.Tensor:
        """Emotion logits.

        Args:
            batch: ``x`` (B, T, D) frames, ``lengths`` (B,), ``mask`` (B, T).
        Returns:
            (B, C) logits.
        """
        z, _ = self._encode(batch)
        return self.out(self.dropout(z))

    @torch.no_grad()
    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        """``{"frames": alpha}``, (B, T) attention over frames (zero on padding)."""
        return {"frames": self._encode(batch)[1]}


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> BiLSTMAttention:
    """Build from hyperparameters ``hidden``, ``layers``, ``dropout``, ``fc_layers``,
    ``statistics``."""
    if spec.level != "frames":
        from serbench.errors import ConfigError

        raise ConfigError("bilstm_att reads frames (T x D); choose a frame-level feature")
    return BiLSTMAttention(
        spec.feature_dim,
        spec.num_classes,
        hidden=int(hparams.get("hidden", 128)),
        layers=int(hparams.get("layers", 1)),
        dropout=float(hparams.get("dropout", 0.3)),
        fc_layers=int(hparams.get("fc_layers", 0)),
        statistics=bool(hparams.get("statistics", False)),
    )


def search_space() -> dict[str, Any]:
    """Hidden size, dropout and learning rate."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {
        "hidden": CategoricalDistribution([64, 128, 256]),
        "dropout": FloatDistribution(0.0, 0.5),
        "lr": FloatDistribution(1e-4, 1e-2, log=True),
    }
