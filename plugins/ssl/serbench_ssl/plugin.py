"""Registers the ``ssl`` feature and the ``ssl_head`` and ``ssl_finetune`` models (entry
point ``serbench: ssl``).

Light on purpose: neither torch nor transformers is imported; the extractor, the builder
and the search space are lazy references.
"""

from __future__ import annotations

from collections.abc import Callable

from serbench import hookimpl
from serbench.components import FeatureSpec, ModelSpec

UPSTREAMS = (
    "WavLM: S. Chen et al., WavLM: Large-Scale Self-Supervised Pre-Training for Full Stack "
    "Speech Processing, IEEE JSTSP 16(6), 2022. HuBERT: W.-N. Hsu et al., HuBERT: "
    "Self-Supervised Speech Representation Learning by Masked Prediction of Hidden Units, "
    "IEEE/ACM TASLP 29, 2021. wav2vec 2.0: A. Baevski et al., NeurIPS 2020. data2vec: "
    "A. Baevski et al., ICML 2022. Whisper: A. Radford et al., Robust Speech Recognition via "
    "Large-Scale Weak Supervision, ICML 2023."
)
SUPERB = (
    "S.-w. Yang et al., SUPERB: Speech processing Universal PERformance Benchmark, Interspeech "
    "2021, pp. 1194-1198. EmoBox: Z. Ma et al., EmoBox: Multilingual Multi-corpus Speech "
    "Emotion Recognition Toolkit and Benchmark, Interspeech 2024."
)

SSL_FEATURE = FeatureSpec(
    name="ssl",
    version=1,
    level="frames",
    description="hidden states of a self-supervised speech model (WavLM, HuBERT, wav2vec 2.0, "
                "data2vec-audio, Whisper encoder) via transformers",
    citation=UPSTREAMS,
    extractor="serbench_ssl.extractor:build",
    sample_rate=16000,
    # model/revision/layer: None = not given (model is then an error, layer the last);
    # device only chooses where the same values are computed ("auto" keeps one cache key
    # across machines)
    default_params={"model": None, "revision": None, "layer": None, "pool": "none",
                    "chunk_seconds": 20.0, "overlap_seconds": 1.0, "device": "auto"},
)

SSL_HEAD = ModelSpec(
    name="ssl_head",
    version=1,
    description="SUPERB/EmoBox downstream: softmax layer weights, projection, pooling, "
                "linear classifier on frozen SSL features",
    citation=SUPERB,
    builder="serbench_ssl.head:build",
    framework="torch",
    level="frames",
    default_feature="ssl",
    # SUPERB's emotion downstream (s3prl downstream/emotion/config.yaml): projector 256,
    # mean pooling, linear classifier, lr 1e-4, gradient norm clipped at 1; batch size,
    # epochs and patience are serbench's (README, "What differs")
    defaults={"projection": 256, "pooling": "mean", "classifier": "linear", "mlp_hidden": 256,
              "dropout": 0.0, "layer_norm": False, "lr": 1e-4, "batch_size": 32,
              "max_epochs": 30, "patience": 5, "grad_clip": 1.0},
    variants={
        "superb": {},
        "attentive": {"pooling": "attentive"},
        "mlp": {"classifier": "mlp", "dropout": 0.2},
    },
    default_variant="superb",
    search_space="serbench_ssl.head:search_space",
    # the stack of every layer, un-normalised as SUPERB and EmoBox feed it
    preferred={"feature": "ssl", "feature_params": {"layer": "all"}, "normalisation": "none"},
)

SSL_FINETUNE = ModelSpec(
    name="ssl_finetune",
    version=1,
    description="a self-supervised upstream fine-tuned on audio (top layers unfrozen) with "
                "the SUPERB layer-weighted head",
    citation=f"{UPSTREAMS} {SUPERB}",
    builder="serbench_ssl.finetune:build",
    framework="torch",
    level="waveform",
    default_feature="waveform",
    # upstream: required (--set upstream=DIR or hub id); the head as ssl_head; lr and
    # batch size of serbench's choosing (README, "What differs")
    defaults={"upstream": None, "revision": None, "unfreeze_top": 2, "sample_rate": 16000,
              "projection": 256, "pooling": "mean", "classifier": "linear", "mlp_hidden": 256,
              "dropout": 0.0, "layer_norm": False, "lr": 5e-5, "batch_size": 8,
              "max_epochs": 20, "patience": 5, "grad_clip": 1.0},
    variants={"top2": {}, "head_only": {"unfreeze_top": 0}},
    default_variant="top2",
    search_space="serbench_ssl.finetune:search_space",
    preferred={"feature": "waveform", "normalisation": "none"},
)


@hookimpl
def register_features(register: Callable[[FeatureSpec], None]) -> None:
    """Register ``ssl`` (see serbench.hookspecs.register_features)."""
    register(SSL_FEATURE)


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register ``ssl_head`` and ``ssl_finetune`` (see serbench.hookspecs.register_models)."""
    register(SSL_HEAD)
    register(SSL_FINETUNE)
