"""``ssl_head``: the SUPERB / EmoBox downstream model for emotion recognition.

Over a frozen upstream's hidden states (the ``ssl`` feature with ``layer=all``) it learns
a softmax-normalised weight per layer (SUPERB, Yang et al. 2021, Sec. 3: ``h_t =
sum_l softmax(w)_l h_t^l``), projects each frame to ``projection`` units, pools over time
(mean over valid frames, as SUPERB's emotion task and EmoBox do, or attentive pooling) and
classifies with a linear layer (SUPERB, EmoBox) or a one-hidden-layer MLP.

The layer stack arrives flattened as frames (B, T, L * H) (:mod:`serbench_ssl.layers`);
the layer count is read from the feature's names (``l<n>_d<j>``), so the head also runs
on a single layer (``layer=n``, L = 1, the weights then are a constant 1) or on any other
frame feature (L = 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.masking import masked_mean
from serbench.nn.pooling import AttentionPooling
from torch import nn

from serbench_ssl.layers import layer_layout

POOLINGS = ("mean", "attentive")
CLASSIFIERS = ("linear", "mlp")


class LayerWeightedHead(nn.Module):
    """Weighted layer sum -> projection -> pooling -> classifier.

    Args:
        num_layers: L, hidden states in each frame (L * H = the frame size).
        hidden_size: H, the size of one hidden state.
        num_classes: C.
        projection: P, units of the frame-wise linear projection.
        pooling: ``mean`` (masked mean over frames) or ``attentive``
            (:class:`serbench.nn.pooling.AttentionPooling`).
        classifier: ``linear`` (P -> C) or ``mlp`` (P -> ``mlp_hidden`` -> ReLU -> C).
        mlp_hidden: hidden units of the MLP classifier.
        dropout: dropout on the pooled vector.
        layer_norm: normalise each layer's H dims (no affine) before weighting, as
            s3prl's featurizer optionally does, so layers with large norms do not dominate.
    """

    def __init__(self, num_layers: int, hidden_size: int, num_classes: int, *,
                 projection: int = 256, pooling: str = "mean", classifier: str = "linear",
                 mlp_hidden: int = 256, dropout: float = 0.0, layer_norm: bool = False):
        super().__init__()
        self.num_layers, self.hidden_size, self.layer_norm = num_layers, hidden_size, layer_norm
        # w in SUPERB: one logit per layer, zeros = the plain average at the start
        self.layer_logits = nn.Parameter(torch.zeros(num_layers))
        self.project = nn.Linear(hidden_size, projection)
        self.pooling = pooling
        self.attention = AttentionPooling(projection) if pooling == "attentive" else None
        self.dropout = nn.Dropout(dropout)
        if classifier == "mlp":
            self.classify: nn.Module = nn.Sequential(
                nn.Linear(projection, mlp_hidden), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(mlp_hidden, num_classes))
        else:
            self.classify = nn.Linear(projection, num_classes)

    def layer_weights(self) -> torch.Tensor:
        """(L,) softmax(w): each layer's share of the weighted sum."""
        return torch.softmax(self.layer_logits, dim=0)

    def _frames(self, batch: Batch) -> torch.Tensor:
        """(B, T, P) projected weighted sums of the layers."""
        b, t, _ = batch.x.shape
        layers = batch.x.reshape(b, t, self.num_layers, self.hidden_size)  # (B, T, L, H)
        if self.layer_norm:
            layers = nn.functional.layer_norm(layers, (self.hidden_size,))
        mixed = torch.einsum("btlh,l->bth", layers, self.layer_weights())
        return self.project(mixed)

    def _pool(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Pooled (B, P) and, for attentive pooling, the weights over frames (B, T)."""
        frames = self._frames(batch)
        if self.attention is not None:
            return self.attention(frames, batch.mask)
        return masked_mean(frames, batch.mask), None

    def forward(self, batch: Batch) -> torch.Tensor:
        """Emotion logits.

        Args:
            batch: ``x`` (B, T, L * H) frames (layer-major), ``lengths`` (B,),
                ``mask`` (B, T).
        Returns:
            (B, C) logits.
        """
        pooled, _ = self._pool(batch)
        return self.classify(self.dropout(pooled))

    @torch.no_grad()
    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        """``{"layers": (B, L)}`` the layer weights, and with attentive pooling
        ``{"frames": (B, T)}`` the weights over frames (zero on padding)."""
        _, frames = self._pool(batch)
        out = {"layers": self.layer_weights().expand(len(batch), -1).clone()}
        if frames is not None:
            out["frames"] = frames
        return out


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> LayerWeightedHead:
    """Build from the input spec (layer count from ``spec.feature_names``) and
    ``projection``, ``pooling``, ``classifier``, ``mlp_hidden``, ``dropout``,
    ``layer_norm``."""
    if spec.level != "frames":
        raise ConfigError("ssl_head reads frames; use the ssl feature without pool=mean "
                          "(e.g. --feature ssl --feature-param layer=all)")
    layout = layer_layout(spec.feature_names)
    num_layers, hidden = (len(layout[0]), layout[1]) if layout else (1, spec.feature_dim)
    if num_layers * hidden != spec.feature_dim:
        raise ConfigError(f"ssl_head: {spec.feature_dim} feature dims are not {num_layers} "
                          f"layers x {hidden}")
    pooling, classifier = str(hparams.get("pooling", "mean")), str(hparams.get("classifier", "linear"))
    return LayerWeightedHead(
        num_layers, hidden, spec.num_classes,
        projection=int(hparams.get("projection", 256)), pooling=pooling, classifier=classifier,
        mlp_hidden=int(hparams.get("mlp_hidden", 256)), dropout=float(hparams.get("dropout", 0.0)),
        layer_norm=bool(hparams.get("layer_norm", False)),
    )


def search_space() -> dict[str, Any]:
    """Projection width, pooling, classifier, dropout and learning rate."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {
        "projection": CategoricalDistribution([64, 128, 256, 512]),
        "pooling": CategoricalDistribution(list(POOLINGS)),
        "classifier": CategoricalDistribution(list(CLASSIFIERS)),
        "dropout": FloatDistribution(0.0, 0.5),
        "lr": FloatDistribution(1e-5, 1e-3, log=True),
    }
