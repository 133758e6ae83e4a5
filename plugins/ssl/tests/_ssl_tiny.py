"""Tiny randomly initialised upstream models saved to a folder (no download, no network).

Each is what ``save_pretrained`` writes for a real checkpoint, at toy sizes: 2 transformer
layers of 16 units, a 2-layer CNN with the real models' total stride (320 samples = 20 ms
at 16 kHz), so frame counts match the real models'.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never download anything

import torch  # noqa: E402
import transformers  # noqa: E402

MODEL_TYPES = ("wavlm", "hubert", "wav2vec2", "data2vec-audio", "whisper")
LAYERS, HIDDEN = 2, 16
_CNN = {"conv_dim": (8, 8), "conv_stride": (5, 64), "conv_kernel": (10, 64)}
_ENCODER = {"hidden_size": HIDDEN, "num_hidden_layers": LAYERS, "num_attention_heads": 2,
            "intermediate_size": 32, "num_conv_pos_embeddings": 16,
            "num_conv_pos_embedding_groups": 2}


def tiny_config(model_type: str, **overrides) -> transformers.PretrainedConfig:
    """A toy config of ``model_type`` (``overrides`` change any field)."""
    if model_type == "whisper":
        # 1 s of input (50 encoder frames), 80 mel bins; the decoder is never run
        kwargs = {"d_model": HIDDEN, "encoder_layers": LAYERS, "encoder_attention_heads": 2,
                  "encoder_ffn_dim": 32, "decoder_layers": 1, "decoder_attention_heads": 2,
                  "decoder_ffn_dim": 32, "num_mel_bins": 80, "max_source_positions": 50,
                  "max_target_positions": 8}
        return transformers.WhisperConfig(**{**kwargs, **overrides})
    classes = {"wavlm": transformers.WavLMConfig, "hubert": transformers.HubertConfig,
               "wav2vec2": transformers.Wav2Vec2Config,
               "data2vec-audio": transformers.Data2VecAudioConfig}
    kwargs = {**_CNN, **_ENCODER}
    if model_type == "data2vec-audio":
        kwargs["num_conv_pos_embeddings"] = 5  # data2vec's positional CNN is per-layer
    else:
        kwargs["feat_extract_norm"] = "layer"  # frame-local CNN (what large models use)
    return classes[model_type](**{**kwargs, **overrides})


def save_tiny(folder: Path, model_type: str, *, seed: int = 0, preprocessor: bool = True,
              normalize: bool = False, **overrides) -> Path:
    """Save a tiny ``model_type`` model (weights from ``seed``) and its preprocessor
    (``normalize``: wav2vec 2.0's ``do_normalize``) to ``folder``; returns ``folder``."""
    config = tiny_config(model_type, **overrides)
    torch.manual_seed(seed)
    model = transformers.AutoModel.from_config(config)
    model.save_pretrained(folder)
    if preprocessor:
        if model_type == "whisper":
            fe = transformers.WhisperFeatureExtractor(feature_size=80, chunk_length=1)
        else:
            fe = transformers.Wav2Vec2FeatureExtractor(do_normalize=normalize)
        fe.save_pretrained(folder)
    return folder


def load_tiny(folder: Path, model_type: str) -> torch.nn.Module:
    """The saved model as transformers loads it (Whisper: its encoder), in eval mode."""
    model = transformers.AutoModel.from_pretrained(str(folder))
    return (model.get_encoder() if model_type == "whisper" else model).eval()


if __name__ == "__main__":  # python plugins/ssl/tests/_ssl_tiny.py wavlm FOLDER
    # Writes the same bytes each time (seed 0): leaderboards/assets/tiny-random-wavlm/,
    # the demo leaderboard's stand-in upstream, is made by this (leaderboards/assets/README.md).
    import argparse

    parser = argparse.ArgumentParser(description="Save a tiny randomly initialised upstream.")
    parser.add_argument("model_type", choices=MODEL_TYPES)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(save_tiny(args.folder, args.model_type, seed=args.seed))
