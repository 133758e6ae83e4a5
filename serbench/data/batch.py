"""The two objects a torch model sees: :class:`InputSpec` at build time, :class:`Batch` in
``forward``.

Contract for every torch model a plugin builds::

    model = build(spec: InputSpec, hparams: Mapping[str, Any]) -> torch.nn.Module
    out = model(batch: Batch)   # Tensor (B, C) of emotion logits, or a dict of
                                # task -> logits with key "emotion" (multi-task models)

Padding must never change a model's output for the valid part of a sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # torch is imported lazily so that listing plugins stays light
    import torch


@dataclass(frozen=True)
class InputSpec:
    """What a model is built for.

    Attributes:
        feature_dim: D, the size of one frame (or of the functionals vector).
        num_classes: C, the number of emotion classes.
        level: ``"frames"`` (x is (B, T, D)), ``"functionals"`` (x is (B, D)) or
            ``"waveform"`` (x is (B, N) audio samples; D = 1).
        feature_names: names of the D dimensions.
        tasks: task -> number of classes, always including ``"emotion"``; auxiliary
            tasks (``speaker``, ``gender``) appear when the model asks for them.
        vocab_size: size of the token vocabulary when the model reads ``tokens``.
        classes: emotion class names, in index order.
        sample_rate: the rate of ``x`` in Hz for ``"waveform"`` (``None`` otherwise).
    """

    feature_dim: int
    num_classes: int
    level: Literal["frames", "functionals", "waveform"] = "frames"
    feature_names: tuple[str, ...] = ()
    tasks: dict[str, int] = field(default_factory=dict)
    vocab_size: int | None = None
    classes: tuple[str, ...] = ()
    sample_rate: int | None = None


@dataclass
class Batch:
    """A padded mini-batch.

    Attributes:
        x: (B, T, D) float frames, zero-padded after ``lengths``; or (B, D) functionals;
            or (B, N) audio samples, zero-padded after ``lengths`` (level ``waveform``).
        lengths: (B,) long, valid frames (samples) per row (1 for functionals).
        mask: (B, T) bool, True on valid frames ((B, 1) for functionals, (B, N) for
            waveforms).
        extras: optional named inputs, present when the model's spec asks for them:
            ``"context"`` adds ``prev_self_x`` (B, Ts, D), ``prev_self_lengths`` (B,),
            ``prev_self_present`` (B,) bool, and the same with ``prev_other_``
            (the interlocutor); an absent turn has length 1, zero frames and
            present=False. ``"tokens"`` adds ``tokens`` (B, L) long (0 = padding) and
            ``token_lengths`` (B,).
        targets: task -> (B,) long class indices; ``"emotion"`` always, auxiliary tasks
            when the model has them (-100 where unknown, ignored by the loss).
        utt_ids: the B utterance ids, in row order.
    """

    x: torch.Tensor
    lengths: torch.Tensor
    mask: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)
    targets: dict[str, torch.Tensor] = field(default_factory=dict)
    utt_ids: list[str] = field(default_factory=list)

    def to(self, device: torch.device | str) -> Batch:
        """A copy with every tensor on ``device``."""
        return Batch(
            x=self.x.to(device),
            lengths=self.lengths.to(device),
            mask=self.mask.to(device),
            extras={k: v.to(device) for k, v in self.extras.items()},
            targets={k: v.to(device) for k, v in self.targets.items()},
            utt_ids=list(self.utt_ids),
        )

    def __len__(self) -> int:
        return int(self.x.shape[0])
