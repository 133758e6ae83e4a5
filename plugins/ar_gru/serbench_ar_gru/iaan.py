"""The Interaction-Aware Attention Network (Yeh, Lin and Lee, ICASSP 2019) with pluggable
GRU cells: the network in which the AR-GRU paper (Rajamani et al., ICASSP 2021, section
3.2) compares candidate activations.

Following IAAN's published code:

* the current utterance ``U_c`` is encoded by a GRU (a BiGRU, as the AR-GRU paper says;
  ``bidirectional=False`` gives the unidirectional encoder of the published code), with
  dropout on its inputs and outputs (TensorFlow's ``DropoutWrapper``, keep 0.9);
* the speaker's own previous turn ``U_p`` and the interlocutor's previous turn ``U_r``
  are each encoded by a unidirectional GRU with additive self-attention into ``h_p``,
  ``h_r``; a turn that does not exist (its ``present`` flag is False) is, by default
  (``absent_context="zero"``), an explicit zero vector. Neither paper says what a
  missing turn is; the published code runs its GRU over an unmasked zero "pad" frame,
  which ``absent_context="pad_frame"`` reproduces (the encoding of one zero frame, so
  a missing turn looks like a turn at the features' mean after z-normalisation).
  serbench's default keeps "no turn" distinct from any recorded turn;
* interaction-aware attention pools the current frames:
  ``alpha_t = softmax(u^T tanh(W_c h_t + W_p h_p + W_r h_r + b))``, padding masked;
* ``[attended, h_p, h_r]`` -> FC 64 -> dropout + LayerNorm -> ReLU -> classifier.

Every GRU (current and both context encoders) uses the chosen candidate activation, so
``activation="tanh"`` is IAAN, ``"relu"`` the R-GRU network and ``"arelu"`` AR-GRU.
Label smoothing 0.1 and Adam 1e-4 are training defaults of the model spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.masking import lengths_to_mask
from torch import nn

from serbench_ar_gru.attention import AdditiveSelfAttention, InteractionAwareAttention
from serbench_ar_gru.gru import GRU

CONTEXT_TURNS = ("prev_self", "prev_other")
#: What a missing previous turn becomes: an explicit zero vector, or (the published
#: code) the GRU's encoding of one zero frame.
ABSENT_CONTEXT = ("zero", "pad_frame")


class ContextEncoder(nn.Module):
    """A previous turn -> one vector: GRU + additive self-attention (``h_p`` or ``h_r``).

    Args:
        input_size: D, frame size.
        hidden_size: H, GRU units.
        attention_size: size of the self-attention projection.
        absent: ``"zero"`` (a missing turn is a zero vector) or ``"pad_frame"`` (the
            encoding of the one zero frame the batch holds for it, as the published code).
        gru_kwargs: forwarded to :class:`~serbench_ar_gru.gru.GRU` (activation, ...).
    """

    def __init__(
        self, input_size: int, hidden_size: int, attention_size: int, *,
        absent: str = "zero", **gru_kwargs: Any
    ):
        super().__init__()
        if absent not in ABSENT_CONTEXT:
            raise ConfigError(
                f"ar_gru absent_context={absent!r}: choose one of {', '.join(ABSENT_CONTEXT)}"
            )
        self.absent = absent
        self.gru = GRU(input_size, hidden_size, bidirectional=False, **gru_kwargs)
        self.attention = AdditiveSelfAttention(hidden_size, attention_size)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, present: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode one previous turn per row.

        Args:
            x: (B, Ts, D) the turn's frames (one zero frame where absent).
            lengths: (B,) long, >= 1.
            present: (B,) bool, False where the turn does not exist.
        Returns:
            h: (B, H), zero where the turn is absent (``absent="zero"``).
            weights: (B, Ts) self-attention weights, zero where padded (and where absent,
            with ``absent="zero"``).
        """
        outputs, _ = self.gru(x, lengths)
        mask = lengths_to_mask(lengths.to(x.device), x.shape[1])
        pooled, weights = self.attention(outputs, mask)
        if self.absent == "pad_frame":
            return pooled, weights
        keep = present.to(device=x.device, dtype=pooled.dtype).unsqueeze(-1)
        return pooled * keep, weights * keep


class IAAN(nn.Module):
    """IAAN with pluggable GRU cells; returns emotion logits.

    Args:
        input_size: D, frame size (45 for ``iaan45``).
        num_classes: C.
        hidden_size: GRU units per direction (128 in IAAN's code).
        attention_size: attention projection size (16).
        fc_size: units of the fully connected layer (64).
        dropout: dropout probability (1 - IAAN's keep probability 0.9).
        bidirectional: BiGRU for the current utterance (the AR-GRU paper), else a GRU.
        activation: the GRUs' candidate activation (``tanh``, ``relu``, ``arelu``, ...).
        activation_hparams: hyperparameters the activation reads (``alpha``, ``beta``,
            ``alpha_floor`` of AReLU, eq. 1).
        activation_params: extra keyword arguments for the activation.
        gru_implementation: ``auto``, ``reference`` or a registered fast recurrence.
        absent_context: ``"zero"`` or ``"pad_frame"``, what a missing previous turn
            becomes (see :class:`ContextEncoder`).
    """

    def __init__(
        self,
        input_size: int,
        num_classes: int,
        *,
        hidden_size: int = 128,
        attention_size: int = 16,
        fc_size: int = 64,
        dropout: float = 0.1,
        bidirectional: bool = True,
        activation: str = "arelu",
        activation_hparams: Mapping[str, Any] | None = None,
        activation_params: Mapping[str, Any] | None = None,
        gru_implementation: str = "auto",
        absent_context: str = "zero",
    ):
        super().__init__()
        gru_kwargs: dict[str, Any] = {
            "activation": activation,
            "activation_hparams": activation_hparams,
            "activation_params": activation_params,
            "implementation": gru_implementation,
        }
        self.input_dropout = nn.Dropout(dropout)
        self.current = GRU(input_size, hidden_size, bidirectional=bidirectional, **gru_kwargs)
        self.output_dropout = nn.Dropout(dropout)
        self.prev_self = ContextEncoder(input_size, hidden_size, attention_size,
                                        absent=absent_context, **gru_kwargs)
        self.prev_other = ContextEncoder(input_size, hidden_size, attention_size,
                                         absent=absent_context, **gru_kwargs)
        current_dim = hidden_size * (2 if bidirectional else 1)
        self.attention = InteractionAwareAttention(current_dim, hidden_size, attention_size)
        self.fc = nn.Linear(current_dim + 2 * hidden_size, fc_size)
        self.fc_dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(fc_size)
        self.classifier = nn.Linear(fc_size, num_classes)

    @staticmethod
    def _context(batch: Batch, name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        try:
            return (
                batch.extras[f"{name}_x"],
                batch.extras[f"{name}_lengths"],
                batch.extras[f"{name}_present"],
            )
        except KeyError:
            raise ConfigError(
                f"IAAN needs the dialogue context extras '{name}_x', '{name}_lengths' and "
                f"'{name}_present' in Batch.extras (it has {sorted(batch.extras)}). Build "
                "batches with context, as serbench does for models whose spec lists "
                "inputs=('context',)."
            ) from None

    def _encode(self, batch: Batch) -> dict[str, torch.Tensor]:
        h_p, w_p = self.prev_self(*self._context(batch, "prev_self"))
        h_r, w_r = self.prev_other(*self._context(batch, "prev_other"))
        outputs, _ = self.current(self.input_dropout(batch.x), batch.lengths)
        outputs = self.output_dropout(outputs)
        mask = lengths_to_mask(batch.lengths.to(batch.x.device), batch.x.shape[1])
        attended, alpha = self.attention(outputs, h_p, h_r, mask)
        return {"attended": attended, "h_p": h_p, "h_r": h_r, "alpha": alpha,
                "prev_self": w_p, "prev_other": w_r}

    def forward(self, batch: Batch) -> torch.Tensor:
        """Classify the current utterance of each row given its previous turns.

        Args:
            batch: ``x`` (B, T, D), ``lengths`` (B,), and the context extras
                ``prev_self_x`` (B, Ts, D), ``prev_self_lengths`` (B,),
                ``prev_self_present`` (B,) and the same for ``prev_other_``.
        Returns:
            (B, C) emotion logits.
        """
        enc = self._encode(batch)
        features = torch.cat([enc["attended"], enc["h_p"], enc["h_r"]], dim=-1)
        hidden = torch.relu(self.norm(self.fc_dropout(self.fc(features))))
        return self.classifier(hidden)

    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The interaction-aware attention over ``batch.x``, ``"frames"``: (B, T), and the
        context encoders' self-attention over each previous turn's frames,
        ``"context/prev_self"``: (B, Ts_p) and ``"context/prev_other"``: (B, Ts_r)
        (zero where padded or, with ``absent_context="zero"``, where the turn is absent;
        see :mod:`serbench.explain`)."""
        enc = self._encode(batch)
        return {"frames": enc["alpha"], "context/prev_self": enc["prev_self"],
                "context/prev_other": enc["prev_other"]}


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> IAAN:
    """Build IAAN / R-GRU / AR-GRU from serbench's input spec and the model hyperparameters.

    Args:
        spec: frame-level input (``spec.level == "frames"``).
        hparams: the ``ar_gru`` defaults merged with a variant and overrides; reads
            ``hidden_size``, ``attention_size``, ``fc_size``, ``dropout``,
            ``bidirectional``, ``activation`` (+ ``alpha``, ``beta``, ``alpha_floor``,
            ``activation_params``), ``gru_implementation`` and ``absent_context``;
            training keys are ignored.
    """
    if spec.level != "frames":
        raise ConfigError(
            f"ar_gru reads frame-level features (T x D per utterance), but the feature set "
            f"gives {spec.level!r}. Use a frame-level feature such as iaan45 or emobase_lld."
        )
    for key in ("hidden_size", "attention_size", "fc_size"):
        if int(hparams.get(key, 1)) < 1:
            raise ConfigError(f"ar_gru hyperparameter {key}={hparams[key]!r} must be >= 1")
    dropout = float(hparams.get("dropout", 0.1))
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"ar_gru hyperparameter dropout={dropout!r} must be in [0, 1)")
    return IAAN(
        spec.feature_dim,
        spec.num_classes,
        hidden_size=int(hparams.get("hidden_size", 128)),
        attention_size=int(hparams.get("attention_size", 16)),
        fc_size=int(hparams.get("fc_size", 64)),
        dropout=dropout,
        bidirectional=bool(hparams.get("bidirectional", True)),
        activation=str(hparams.get("activation", "arelu")),
        activation_hparams=hparams,
        activation_params=dict(hparams.get("activation_params") or {}),
        gru_implementation=str(hparams.get("gru_implementation", "auto")),
        absent_context=str(hparams.get("absent_context", "zero")),
    )
