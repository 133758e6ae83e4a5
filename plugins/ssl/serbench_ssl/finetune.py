"""``ssl_finetune``: a self-supervised upstream fine-tuned on audio, with the SUPERB head.

The model reads ``waveform`` batches (``Batch.x`` (B, N) at 16 kHz, from the ``waveform``
feature) and runs the upstream (WavLM, HuBERT, wav2vec 2.0 or data2vec-audio, from a local
folder or a hub id, :mod:`serbench_ssl.upstream`) inside the model, so its top
``unfreeze_top`` transformer layers are trained together with the layer-weighted head of
:mod:`serbench_ssl.head` over all N + 1 hidden states. Everything else in the upstream
(the CNN feature encoder, the feature projection, the lower layers) is frozen
(:func:`freeze_layers`).

Padding: an upstream whose CNN normalises each layer's frames (``feat_extract_norm =
"layer"``: the large models, and the tests' tiny ones) runs on the padded batch with an
attention mask; one with group norm over time (``"group"``: the base models, whose
``attention_mask`` transformers says not to pass) runs one utterance at a time on its own
samples, so padding never changes an output. When the preprocessor normalises the audio
(``do_normalize``), each utterance is normalised over its valid samples. An utterance
shorter than the CNN's receptive field (400 samples = 25 ms in the real models) is
zero-padded to it. SpecAugment-style masking and LayerDrop are switched off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.nn.masking import lengths_to_mask
from torch import nn

from serbench_ssl.head import LayerWeightedHead
from serbench_ssl.upstream import Upstream, locate

#: upstreams that take audio directly (Whisper reads log-mel spectrograms)
WAVEFORM_TYPES = ("wavlm", "hubert", "wav2vec2", "data2vec-audio")


def freeze_layers(upstream: nn.Module, unfreeze_top: int) -> list[str]:
    """Freeze every parameter of a transformers upstream except its top ``unfreeze_top``
    transformer layers (``encoder.layers[-K:]``); returns the names left trainable.

    Raises:
        ConfigError: ``unfreeze_top`` negative or more than the layers the model has.
    """
    layers = upstream.encoder.layers
    if not 0 <= unfreeze_top <= len(layers):
        raise ConfigError(f"--set unfreeze_top={unfreeze_top}: the upstream has {len(layers)} "
                          f"transformer layers; give 0..{len(layers)}")
    for p in upstream.parameters():
        p.requires_grad_(False)
    keep = list(layers)[len(layers) - unfreeze_top:]
    for layer in keep:
        for p in layer.parameters():
            p.requires_grad_(True)
    return [n for n, p in upstream.named_parameters() if p.requires_grad]


def _min_samples(config: Any) -> int:
    """The fewest samples for which the CNN gives one frame (its receptive field)."""
    need = 1
    for kernel, stride in reversed(list(zip(config.conv_kernel, config.conv_stride, strict=True))):
        need = (need - 1) * int(stride) + int(kernel)
    return need


class SslFinetune(nn.Module):
    """Upstream (top K layers trainable) -> all hidden states -> :class:`LayerWeightedHead`.

    Args:
        upstream: the transformers model (``forward(input_values, attention_mask,
            output_hidden_states=True)``).
        head: the layer-weighted head over its N + 1 hidden states of size H.
        normalize: normalise each utterance to zero mean and unit variance first.
        batched: run the padded batch with an attention mask (frame-local CNN) rather
            than one utterance at a time.
    """

    def __init__(self, upstream: nn.Module, head: LayerWeightedHead, *, normalize: bool,
                 batched: bool):
        super().__init__()
        self.upstream, self.head = upstream, head
        self.normalize, self.batched = normalize, batched
        self.min_samples = _min_samples(upstream.config)

    def _prepare(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N') audio normalised over valid samples and at least ``min_samples`` long,
        with its (B,) lengths (zero after them)."""
        mask = lengths_to_mask(lengths, x.shape[1])
        x = x * mask
        if self.normalize:
            n = lengths.clamp(min=1).unsqueeze(1).to(x.dtype)
            mean = x.sum(1, keepdim=True) / n
            var = ((x - mean) ** 2 * mask).sum(1, keepdim=True) / n
            x = (x - mean) / torch.sqrt(var + 1e-7) * mask
        lengths = lengths.clamp(min=self.min_samples)
        if x.shape[1] < self.min_samples:
            x = nn.functional.pad(x, (0, self.min_samples - x.shape[1]))
        return x, lengths

    def _states(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """(B, T, L * H) hidden states 0..N of audio x (B, N), layer-major."""
        out = self.upstream(x, attention_mask=mask, output_hidden_states=True)
        states = torch.stack(out.hidden_states, dim=2)  # (B, T, L, H)
        return states.flatten(2)

    def hidden_states(self, batch: Batch) -> Batch:
        """The upstream's stacked hidden states as a frame batch.

        Args:
            batch: ``x`` (B, N) audio, ``lengths`` (B,) samples, ``mask`` (B, N).
        Returns:
            a Batch with ``x`` (B, T, L * H), ``lengths`` (B,) frames, ``mask`` (B, T).
        """
        x, lengths = self._prepare(batch.x, batch.lengths)
        frames = self.upstream._get_feat_extract_output_lengths(lengths).long()
        if self.batched:
            sample_mask = lengths_to_mask(lengths, x.shape[1]).long()
            states = self._states(x, sample_mask)
        else:  # each utterance on its own samples: group norm sees no padding
            rows = [self._states(x[b : b + 1, : int(lengths[b])], None)[0] for b in range(len(x))]
            states = nn.utils.rnn.pad_sequence(rows, batch_first=True)
        frames = frames.clamp(max=states.shape[1])
        mask = lengths_to_mask(frames, states.shape[1])
        return Batch(x=states * mask.unsqueeze(-1), lengths=frames, mask=mask,
                     targets=batch.targets, utt_ids=batch.utt_ids)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Emotion logits.

        Args:
            batch: ``x`` (B, N) audio at 16 kHz, zero-padded after ``lengths`` (B,),
                ``mask`` (B, N).
        Returns:
            (B, C) logits.
        """
        return self.head(self.hidden_states(batch))

    @torch.no_grad()
    def attention_maps(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The head's maps (``{"layers": (B, L)}``, and ``"frames"`` (B, T) when attentive)."""
        return self.head.attention_maps(self.hidden_states(batch))


def _load(upstream: Upstream) -> nn.Module:
    from transformers import AutoModel
    from transformers.utils import logging

    from serbench_ssl.upstream import _HOW_LOCAL, _offline

    logging.disable_progress_bar()
    where = upstream.source if upstream.hub_id is None else upstream.hub_id
    kwargs: dict[str, Any] = {"apply_spec_augment": False, "layerdrop": 0.0}
    if upstream.hub_id is not None:
        kwargs.update(revision=upstream.commit, local_files_only=_offline())
    try:
        return AutoModel.from_pretrained(where, **kwargs)
    except OSError as exc:
        raise ConfigError(f"--set upstream={upstream.source}: loading the weights failed "
                          f"({exc}); {_HOW_LOCAL.format(id=where)}") from None


def _preprocessor_normalizes(upstream: Upstream) -> bool:
    import json

    path = upstream.folder / "preprocessor_config.json"
    return path.is_file() and bool(json.loads(path.read_text()).get("do_normalize", False))


def build(spec: InputSpec, hparams: Mapping[str, Any]) -> SslFinetune:
    """Build from ``upstream`` (a local folder or a hub id, required), ``revision``,
    ``unfreeze_top`` and the head's ``projection``, ``pooling``, ``classifier``,
    ``mlp_hidden``, ``dropout``, ``layer_norm``.

    Raises:
        ConfigError: not a waveform input, no or an unusable upstream (Whisper included),
            a rate other than 16 kHz, a bad ``unfreeze_top``.
    """
    if spec.level != "waveform":
        raise ConfigError("ssl_finetune reads audio; run it with --feature waveform")
    source = hparams.get("upstream")
    if not source:
        raise ConfigError("ssl_finetune needs --set upstream=<local folder or hub id>, e.g. "
                          "upstream=/models/wavlm-base-plus or upstream=microsoft/wavlm-base-plus")
    located = locate(str(source), hparams.get("revision") or None)
    if located.model_type not in WAVEFORM_TYPES:
        raise ConfigError(f"--set upstream={source}: ssl_finetune fine-tunes "
                          f"{', '.join(WAVEFORM_TYPES)} (models that read audio); "
                          f"{located.model_type!r} is not one")
    if spec.sample_rate != 16000:
        raise ConfigError(f"ssl_finetune: the upstream reads 16 kHz audio, got sample_rate="
                          f"{spec.sample_rate}; drop --set sample_rate")
    upstream = _load(located)
    freeze_layers(upstream, int(hparams.get("unfreeze_top", 2)))
    head = LayerWeightedHead(
        located.num_layers + 1, located.hidden_size, spec.num_classes,
        projection=int(hparams.get("projection", 256)),
        pooling=str(hparams.get("pooling", "mean")),
        classifier=str(hparams.get("classifier", "linear")),
        mlp_hidden=int(hparams.get("mlp_hidden", 256)), dropout=float(hparams.get("dropout", 0.0)),
        layer_norm=bool(hparams.get("layer_norm", False)),
    )
    batched = str(getattr(located.config, "feat_extract_norm", "group")) == "layer"
    return SslFinetune(upstream, head, normalize=_preprocessor_normalizes(located),
                       batched=batched)


def search_space() -> dict[str, Any]:
    """Layers unfrozen, projection width, pooling, dropout and learning rate."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    return {
        "unfreeze_top": IntDistribution(0, 4),
        "projection": CategoricalDistribution([128, 256]),
        "pooling": CategoricalDistribution(["mean", "attentive"]),
        "dropout": FloatDistribution(0.0, 0.3),
        "lr": FloatDistribution(1e-5, 1e-4, log=True),
    }
