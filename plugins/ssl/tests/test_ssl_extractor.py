"""The ssl extractor on tiny local models of every supported family: shapes, layer
selection against the model's own hidden states, the layer stack, mean pooling and
chunking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from _ssl_tiny import HIDDEN, LAYERS, MODEL_TYPES, load_tiny, save_tiny

from serbench_ssl.extractor import build
from serbench_ssl.layers import layer_layout

RATE = 16000
#: the tiny Whisper reads 1 s windows (a real one 30 s: the defaults then fit)
WHISPER = {"chunk_seconds": 1.0, "overlap_seconds": 0.2}


def _params(model_type: str, folder: Path, **params) -> dict:
    return {"model": str(folder), **(WHISPER if model_type == "whisper" else {}), **params}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("upstreams")
    return {t: save_tiny(root / t, t) for t in MODEL_TYPES}


def _signal(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def _hidden_states(folder: Path, model_type: str, signal: np.ndarray) -> list[np.ndarray]:
    """The model's own hidden states for ``signal``, (T, H) each, computed directly."""
    model = load_tiny(folder, model_type)
    with torch.no_grad():
        if model_type == "whisper":
            import transformers

            fe = transformers.WhisperFeatureExtractor.from_pretrained(str(folder))
            inputs = fe(signal, sampling_rate=RATE, return_tensors="pt").input_features
            valid = int(np.ceil(len(signal) / 320))
        else:
            inputs, valid = torch.from_numpy(signal)[None], None
        hidden = model(inputs, output_hidden_states=True).hidden_states
    return [h[0, :valid].numpy() for h in hidden]


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_layer_n_is_that_hidden_state(folders, model_type) -> None:
    signal = _signal(0.5)
    expected = _hidden_states(folders[model_type], model_type, signal)
    assert len(expected) == LAYERS + 1
    for layer in (0, 1, LAYERS):
        extractor = build(_params(model_type, folders[model_type], layer=layer))
        assert extractor._model is None  # building (what a warm cache read does) loads no weights
        assert extractor.level == "frames" and extractor.sample_rate == RATE
        assert extractor.names == [f"l{layer}_d{j}" for j in range(HIDDEN)]
        frames = extractor(signal, RATE)
        assert frames.shape == (expected[layer].shape[0], HIDDEN) == (25 if model_type == "whisper" else 24, HIDDEN)
        np.testing.assert_allclose(frames, expected[layer], atol=1e-5)
    # no layer: the last hidden state
    last = build(_params(model_type, folders[model_type]))(signal, RATE)
    np.testing.assert_allclose(last, expected[LAYERS], atol=1e-5)


@pytest.mark.parametrize("model_type", ["wavlm", "whisper"])
def test_layer_all_is_the_flattened_stack_and_mean_pools_it(folders, model_type) -> None:
    signal = _signal(0.6, seed=1)
    expected = np.stack(_hidden_states(folders[model_type], model_type, signal), axis=1)  # (T, L+1, H)
    extractor = build(_params(model_type, folders[model_type], layer="all"))
    stack = extractor(signal, RATE)
    assert stack.shape == (expected.shape[0], (LAYERS + 1) * HIDDEN)
    assert layer_layout(extractor.names) == (tuple(range(LAYERS + 1)), HIDDEN)
    np.testing.assert_allclose(stack.reshape(expected.shape), expected, atol=1e-5)
    pooled = build(_params(model_type, folders[model_type], layer="all", pool="mean"))
    assert pooled.level == "functionals"
    np.testing.assert_allclose(pooled(signal, RATE), stack.mean(axis=0), atol=1e-6)


@pytest.mark.parametrize("model_type", ["wav2vec2", "wavlm", "hubert"])
def test_chunked_equals_unchunked_where_frames_see_a_local_context(folders, model_type) -> None:
    """Hidden state 0 (the CNN, projection and a 16-frame positional convolution) sees at
    most 8 frames either side, fewer than half the 0.4 s overlap: stitched windows must
    give the unchunked frames. Transformer layers see only their window (not compared)."""
    signal = _signal(3.3, seed=2)
    folder = str(folders[model_type])
    whole = build({"model": folder, "layer": "all", "chunk_seconds": 20.0})
    chunked = build({"model": folder, "layer": "all", "chunk_seconds": 1.0,
                     "overlap_seconds": 0.4})
    a, b = whole(signal, RATE), chunked(signal, RATE)
    assert a.shape == b.shape == (164, (LAYERS + 1) * HIDDEN)
    np.testing.assert_allclose(b[:, :HIDDEN], a[:, :HIDDEN], atol=1e-4)
    # the transformer layers do differ: the comparison above is not vacuous
    assert not np.allclose(b[:, -HIDDEN:], a[:, -HIDDEN:], atol=1e-4)


def test_normalisation_is_over_the_whole_recording_not_each_window(tmp_path) -> None:
    folder = str(save_tiny(tmp_path / "w2v", "wav2vec2", normalize=True))
    signal = _signal(3.3, seed=4)
    signal[: len(signal) // 2] *= 4.0  # windows with different loudness
    whole = build({"model": folder, "layer": 0})(signal, RATE)
    chunked = build({"model": folder, "layer": 0, "chunk_seconds": 1.0,
                     "overlap_seconds": 0.4})(signal, RATE)
    np.testing.assert_allclose(chunked, whole, atol=1e-4)
    # ... and is transformers' own (its feature extractor on the whole signal)
    import transformers

    fe = transformers.Wav2Vec2FeatureExtractor.from_pretrained(folder)
    inputs = fe(signal, sampling_rate=RATE, return_tensors="pt").input_values
    with torch.no_grad():
        expected = load_tiny(Path(folder), "wav2vec2")(inputs, output_hidden_states=True)
    np.testing.assert_allclose(whole, expected.hidden_states[0][0].numpy(), atol=1e-4)


def test_whisper_windows_are_stitched_to_the_signals_length(folders) -> None:
    signal = _signal(2.3, seed=3)
    extractor = build({"model": str(folders["whisper"]), "layer": 0, "chunk_seconds": 1.0,
                       "overlap_seconds": 0.2})
    assert extractor(signal, RATE).shape == (int(np.ceil(len(signal) / 320)), HIDDEN)


def test_a_signal_at_another_rate_is_refused(folders) -> None:
    extractor = build({"model": str(folders["hubert"])})
    with pytest.raises(ValueError, match="8000 Hz"):
        extractor(_signal(0.5)[::2], 8000)
