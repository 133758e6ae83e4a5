"""The ``waveform`` feature: decoded, resampled mono audio for models that read audio.

A model declaring ``level="waveform"`` (``ModelSpec.level``) reads the signal itself
(fine-tuning a self-supervised upstream, a raw-audio CNN). The audio is decoded and
resampled once, by the feature cache, and stored as frames (N, 1): one "frame" per
sample, dimension name ``waveform``. The cache, bucketing, padding and resume therefore
work as for any frame feature; collation drops the last axis for a waveform model, which
gets ``Batch.x`` (B, N) with ``lengths`` (B,) in samples and ``mask`` (B, N).

Parameters (``--feature-param``):

- ``sample_rate``: the rate the audio is resampled to (soxr, :func:`serbench.audio.resample`).
  For a waveform model, ``serbench run`` sets it to the model's rate (its ``sample_rate``
  hyperparameter, default 16000); giving another value is an error.
- ``max_seconds``: the longest audio kept per utterance (default 20 s); a longer one is
  cropped to its first ``max_seconds``. It bounds the cache (4 bytes a sample: 1 h of
  audio at 16 kHz is 230 MB) and the memory of a batch (B x the longest utterance).
  ``max_seconds=0`` keeps everything.

The cache stores the float32 samples as they are; use normalisation ``none`` with a
waveform model (a model that wants zero mean and unit variance per utterance, as the
wav2vec 2.0 preprocessors do, applies it itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from serbench.errors import ConfigError

#: the rate a waveform model reads when it declares none
DEFAULT_SAMPLE_RATE = 16000
#: the longest utterance kept by default, in seconds
DEFAULT_MAX_SECONDS = 20.0
#: the one dimension name of the stored (N, 1) frames
NAMES = ("waveform",)


class WaveformExtractor:
    """Signal (N,) -> frames (min(N, max_seconds * rate), 1), float32 as decoded."""

    level: Literal["frames", "functionals"] = "frames"
    names: list[str] = list(NAMES)

    def __init__(self, sample_rate: int = DEFAULT_SAMPLE_RATE,
                 max_seconds: float = DEFAULT_MAX_SECONDS):
        self.sample_rate = int(sample_rate)
        self.max_seconds = float(max_seconds)
        self.max_samples = int(round(self.max_seconds * self.sample_rate)) or None
        self.backend: dict[str, Any] = {"serbench.features.waveform": 1}

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """signal: (N,) float32 mono at ``self.sample_rate`` -> (N', 1), N' <= max_samples."""
        if int(sample_rate) != self.sample_rate:
            raise ValueError(f"waveform: got audio at {sample_rate} Hz, expected "
                             f"{self.sample_rate} Hz (the cache resamples first)")
        x = np.asarray(signal, dtype=np.float32).reshape(-1)
        if self.max_samples is not None:
            x = x[: self.max_samples]
        return x[:, None].copy()


def build(params: Mapping[str, Any]) -> WaveformExtractor:
    """``params``: ``sample_rate`` (Hz, > 0) and ``max_seconds`` (>= 0, 0 = no limit).

    Raises:
        ConfigError: a rate that is not a positive integer or a negative ``max_seconds``.
    """
    rate, max_seconds = params.get("sample_rate", DEFAULT_SAMPLE_RATE), params.get(
        "max_seconds", DEFAULT_MAX_SECONDS)
    if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
        raise ConfigError(f"--feature-param sample_rate={rate!r}: the waveform feature needs "
                          "a positive integer rate in Hz, e.g. sample_rate=16000")
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, int | float) or max_seconds < 0:
        raise ConfigError(f"--feature-param max_seconds={max_seconds!r}: give the longest "
                          "audio to keep in seconds (>= 0; 0 keeps everything)")
    return WaveformExtractor(rate, float(max_seconds))


def model_sample_rate(hparams: Mapping[str, Any]) -> int:
    """The rate a waveform model reads: its ``sample_rate`` hyperparameter (default 16000).

    Raises:
        ConfigError: a rate that is not a positive integer.
    """
    rate = hparams.get("sample_rate", DEFAULT_SAMPLE_RATE)
    if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
        raise ConfigError(f"--set sample_rate={rate!r}: a waveform model's rate must be a "
                          "positive integer in Hz, e.g. 16000")
    return rate


def waveform_feature_params(model: Any, hparams: Mapping[str, Any], feature: Any,
                            params: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The feature parameters of a run, checked for waveform pairing: for a waveform model,
    ``params`` with ``sample_rate`` set to the model's rate (:func:`model_sample_rate`);
    for any other model, ``params`` unchanged.

    Args:
        model: the ModelSpec.
        hparams: its resolved hyperparameters.
        feature: the chosen FeatureSpec.
        params: the feature parameters resolved so far.
        given: the user's ``--feature-param`` values.

    Raises:
        ConfigError: a waveform model with another feature, the waveform feature with a
            model that does not read waveforms, or ``--feature-param sample_rate`` other
            than the model's rate.
    """
    reads, holds = getattr(model, "level", "frames"), getattr(feature, "level", None)
    if reads != "waveform":
        if holds == "waveform":
            raise ConfigError(f"feature {feature.name!r} holds audio samples, but model "
                              f"{model.name!r} reads {reads}; choose a {reads}-level feature "
                              f"(its default is {model.default_feature!r}) or a waveform model")
        return dict(params)
    if holds != "waveform":
        raise ConfigError(f"model {model.name!r} reads waveform (audio), but feature "
                          f"{feature.name!r} holds {holds}; use --feature waveform")
    rate = model_sample_rate(hparams)
    if "sample_rate" in given and given["sample_rate"] != rate:
        raise ConfigError(f"--feature-param sample_rate={given['sample_rate']!r} differs from "
                          f"model {model.name!r}'s rate {rate}; drop it, or change the model's "
                          f"rate with --set sample_rate={given['sample_rate']!r}")
    return {**dict(params), "sample_rate": rate}
