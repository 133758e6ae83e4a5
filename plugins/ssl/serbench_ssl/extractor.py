"""The ``ssl`` feature extractor: hidden states of a self-supervised speech model.

``build(params)`` returns an :class:`SSLExtractor`, which serbench's feature cache calls
once per utterance with the signal already resampled to the extractor's ``sample_rate``
(the model's preprocessor's rate, 16 kHz for every supported model). Parameters (the
``ssl`` FeatureSpec's ``default_params``):

- ``model``: a local folder or a Hugging Face Hub id (:mod:`serbench_ssl.upstream`);
  ``revision``: a hub branch, tag or commit (default: the hub's default branch).
- ``layer``: omitted = the last hidden state; ``n`` = hidden state ``n`` (0 = the CNN /
  embedding output, N = the last layer); ``all`` = every hidden state 0..N, stored
  flattened as frames (T, (N + 1) * H) named ``l<n>_d<j>`` (:mod:`serbench_ssl.layers`).
- ``pool``: ``none`` (frames, 50 per second) or ``mean`` (functionals: the mean over
  frames of the selected layer(s)).
- ``chunk_seconds`` / ``overlap_seconds``: windows for long recordings
  (:mod:`serbench_ssl.chunking`); Whisper's window is at most its 30 s input.
- ``device``: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:<i>``.
  A recording's windows go through the model in batches of up to 8; utterances come one
  at a time, in the cache's ``workers`` processes.

The model is loaded on the first call, so building the extractor (what the cache does to
compute its key and to read a warm cache) never loads weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from serbench.errors import ConfigError

from serbench_ssl.chunking import plan_windows, stitch
from serbench_ssl.layers import layer_names
from serbench_ssl.upstream import Upstream, load_model, locate

#: windows of one recording per forward pass
MAX_BATCH = 8
POOLS = ("none", "mean")


def _layers(value: Any, num_layers: int) -> list[int]:
    """The hidden-state indices ``layer=value`` selects, of 0..num_layers."""
    if value is None:
        return [num_layers]
    if value == "all":
        return list(range(num_layers + 1))
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= num_layers:
        return [value]
    raise ConfigError(f"--feature-param layer={value!r}: expected an integer from 0 (the CNN / "
                      f"embedding output) to {num_layers} (the last of this model's "
                      f"{num_layers} layers), 'all' (every hidden state, for a head that "
                      "weights layers), or no layer for the last")


def _device(value: Any) -> str:
    import torch

    text = str(value).strip().lower()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu" or text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if text.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"--feature-param device={value}: CUDA is not available on this "
                              "machine; use device=cpu or device=auto")
        return text
    raise ConfigError(f"--feature-param device={value!r}: expected auto, cpu, cuda or cuda:<i>")


def _preprocessor(upstream: Upstream) -> Any:
    """The model's feature extractor (``preprocessor_config.json``); wav2vec 2.0-style
    models without one get transformers' defaults, normalising the waveform exactly when
    the model's CNN uses layer norm (transformers' documented convention)."""
    from transformers import AutoFeatureExtractor, Wav2Vec2FeatureExtractor

    if (upstream.folder / "preprocessor_config.json").is_file():
        return AutoFeatureExtractor.from_pretrained(str(upstream.folder))
    if upstream.model_type == "whisper":
        raise ConfigError(f"--feature-param model={upstream.source}: {upstream.folder} has no "
                          "preprocessor_config.json, which a Whisper model needs (its log-mel "
                          "settings); save the processor there with "
                          "WhisperFeatureExtractor.save_pretrained(DIR)")
    norm = getattr(upstream.config, "feat_extract_norm", "layer") == "layer"
    return Wav2Vec2FeatureExtractor(do_normalize=norm, return_attention_mask=False)


class SSLExtractor:
    """Hidden states of one upstream model for one utterance at a time.

    Attributes:
        level: ``"frames"`` ((T, S * H) per utterance) or ``"functionals"`` ((S * H,),
            ``pool=mean``), S the number of selected hidden states.
        sample_rate: the model's input rate.
        names: ``l<n>_d<j>`` for each selected hidden state ``n`` and dimension ``j``.
        backend: versions and the upstream's fingerprint (part of the cache key).
        min_seconds: shorter signals are zero-padded by the cache (the CNN's receptive
            field is 25 ms).
    """

    min_seconds = 0.12

    def __init__(self, upstream: Upstream, layers: list[int], pool: str, device: str,
                 chunk_seconds: float, overlap_seconds: float):
        import torch
        import transformers

        self.upstream = upstream
        self.layers = layers
        self.pool = pool
        self.device = device
        self.preprocessor = _preprocessor(upstream)
        self.sample_rate = int(self.preprocessor.sampling_rate)
        self.whisper = upstream.model_type == "whisper"
        # frames every `hop` samples: Whisper's mel hop times its stride-2 convolution
        self.hop = (int(self.preprocessor.hop_length) * 2 if self.whisper
                    else int(upstream.config.inputs_to_logits_ratio))
        self.window, self.overlap = self._windows(chunk_seconds, overlap_seconds)
        self.level: Literal["frames", "functionals"] = "functionals" if pool == "mean" else "frames"
        self.names = layer_names(layers, upstream.hidden_size)
        self.backend = {"transformers": transformers.__version__,
                        "torch": torch.__version__.split("+")[0],
                        "model_type": upstream.model_type, **upstream.fingerprint}
        self._model: Any = None

    def _windows(self, chunk_seconds: float, overlap_seconds: float) -> tuple[int, int]:
        window = round(chunk_seconds * self.sample_rate / self.hop) * self.hop
        overlap = round(overlap_seconds * self.sample_rate / self.hop) * self.hop
        limit = int(self.preprocessor.n_samples) if self.whisper else None
        problems = []
        if overlap < 2 * self.hop:
            problems.append(f"overlap_seconds={overlap_seconds} must be at least "
                            f"{2 * self.hop / self.sample_rate} s (two frames)")
        if window <= 2 * overlap:
            problems.append(f"chunk_seconds={chunk_seconds} must be more than twice "
                            f"overlap_seconds={overlap_seconds}")
        if limit is not None and window > limit:
            problems.append(f"chunk_seconds={chunk_seconds} exceeds this Whisper encoder's "
                            f"{limit / self.sample_rate:g} s input; give at most that")
        if problems:
            raise ConfigError("feature 'ssl': " + "; ".join(problems))
        return window, overlap

    def model(self) -> Any:
        """The upstream module, loaded on first use."""
        if self._model is None:
            self._model = load_model(self.upstream, self.device)
        return self._model

    def _forward(self, windows: list[np.ndarray]) -> list[np.ndarray]:
        """Equal-length windows -> each window's selected hidden states (T_k, S, H)."""
        import torch

        if self.whisper:
            inputs = self.preprocessor(windows, sampling_rate=self.sample_rate,
                                       return_tensors="pt").input_features
            frames = [min(math.ceil(len(w) / self.hop), self.upstream.config.max_source_positions)
                      for w in windows]
        else:
            inputs = torch.from_numpy(np.stack(windows).astype(np.float32))
            frames = [None] * len(windows)
        with torch.inference_mode():
            hidden = self.model()(inputs.to(self.device), output_hidden_states=True).hidden_states
            stack = torch.stack([hidden[n] for n in self.layers], dim=2)  # (B, T, S, H)
        out = stack.float().cpu().numpy()
        return [out[i, : frames[i]] for i in range(len(windows))]

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """signal: (N,) float32 mono at ``sample_rate`` -> (T, S * H) frames, or (S * H,)
        with ``pool=mean``; T = the model's frames of the whole signal (50 per second)."""
        if sample_rate != self.sample_rate:
            raise ValueError(f"signal at {sample_rate} Hz; this model reads {self.sample_rate} Hz")
        signal = np.asarray(signal, dtype=np.float32)
        if not self.whisper and getattr(self.preprocessor, "do_normalize", False):
            # over the whole recording, as the unchunked model sees it (not per window)
            signal = self.preprocessor.zero_mean_unit_var_norm([signal], None)[0]
        spans = plan_windows(len(signal), self.window, self.overlap, self.hop)
        results: dict[int, np.ndarray] = {}
        by_length: dict[int, list[int]] = {}
        for k, (start, end) in enumerate(spans):
            by_length.setdefault(end - start, []).append(k)
        for group in by_length.values():  # equal lengths batch without padding
            for i in range(0, len(group), MAX_BATCH):
                ks = group[i : i + MAX_BATCH]
                outs = self._forward([signal[spans[k][0] : spans[k][1]] for k in ks])
                results.update(zip(ks, outs, strict=True))
        frames = stitch([s for s, _ in spans], [results[k] for k in range(len(spans))], self.hop)
        flat = frames.reshape(frames.shape[0], -1)  # (T, S * H), layer-major
        return flat.mean(axis=0) if self.pool == "mean" else flat


def build(params: Mapping[str, Any]) -> SSLExtractor:
    """The extractor for ``params`` (see the module docstring); checks every parameter and
    the model's config before any audio is read.

    Raises:
        ConfigError: a missing or unusable ``model``, a bad ``layer``, ``pool``,
            ``device`` or window setting.
    """
    upstream = locate(params.get("model"), params.get("revision"))
    layers = _layers(params.get("layer"), upstream.num_layers)
    pool = str(params.get("pool", "none"))
    if pool not in POOLS:
        raise ConfigError(f"--feature-param pool={pool!r}: expected one of {', '.join(POOLS)} "
                          "(none = frames, mean = one vector per utterance)")
    return SSLExtractor(upstream, layers, pool, _device(params.get("device", "auto")),
                        float(params.get("chunk_seconds", 20.0)),
                        float(params.get("overlap_seconds", 1.0)))
