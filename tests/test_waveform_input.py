"""The waveform input level: the ``waveform`` feature, collation into (B, N), the spec
checks, and the conformance kit on a tiny raw-audio CNN (padding invariance on samples)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from serbench.components import FeatureSpec, ModelSpec
from serbench.data.batch import Batch, InputSpec
from serbench.data.dataset import UtteranceDataset, collate
from serbench.errors import ConfigError
from serbench.features.waveform import build, model_sample_rate, waveform_feature_params
from serbench.nn.masking import lengths_to_mask, masked_mean
from serbench.testing.conformance import ModelConformance

KERNEL, STRIDE = 8, 4


class TinyRawCnn(nn.Module):
    """Conv1d over samples (no padding) -> masked mean over frames -> linear."""

    def __init__(self, num_classes: int, masked: bool = True):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, KERNEL, STRIDE)
        self.out = nn.Linear(4, num_classes)
        self.masked = masked

    def forward(self, batch: Batch) -> torch.Tensor:
        """batch.x: (B, N) audio, lengths (B,) samples -> (B, C) logits."""
        x = nn.functional.pad(batch.x, (0, max(0, KERNEL - batch.x.shape[1])))
        frames = torch.relu(self.conv(x.unsqueeze(1))).transpose(1, 2)  # (B, T, 4)
        n = ((batch.lengths.clamp(min=KERNEL) - KERNEL) // STRIDE + 1).clamp(max=frames.shape[1])
        mask = lengths_to_mask(n, frames.shape[1]) if self.masked else torch.ones(
            frames.shape[:2], dtype=torch.bool)
        return self.out(masked_mean(frames, mask))


def build_tiny(spec: InputSpec, hparams: Mapping[str, Any]) -> TinyRawCnn:
    assert spec.level == "waveform" and spec.sample_rate == 8000
    return TinyRawCnn(spec.num_classes, masked=bool(hparams.get("masked", True)))


class _RawConformance(ModelConformance):
    model_name = "tiny_raw"
    level = "waveform"
    feature_dim = 1
    sample_rate = 8000
    lengths = (200, 37, 120, 3)

    def model_spec(self) -> ModelSpec:
        return ModelSpec(name="tiny_raw", version=1, description="d", builder=build_tiny,
                         level="waveform", defaults={"sample_rate": 8000})


class TestTinyRawCnnConformance(_RawConformance):
    pass


def test_conformance_catches_a_model_that_reads_padding() -> None:
    check = type("Unmasked", (_RawConformance,), {"hparams": {"masked": False}})()
    with pytest.raises(AssertionError, match="padding changed"):
        check.test_padding_invariance()


def test_the_feature_stores_the_signal_as_frames_cropped_to_max_seconds() -> None:
    signal = np.linspace(-1, 1, 40000, dtype=np.float32)
    out = build({"sample_rate": 16000, "max_seconds": 2.0})(signal, 16000)
    assert out.shape == (32000, 1) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0], signal[:32000])
    assert build({"sample_rate": 16000, "max_seconds": 0})(signal, 16000).shape == (40000, 1)
    with pytest.raises(ValueError, match="8000 Hz"):
        build({"sample_rate": 16000})(signal, 8000)


@pytest.mark.parametrize("params, word", [({"sample_rate": 0}, "sample_rate"),
                                          ({"sample_rate": 16000.5}, "sample_rate"),
                                          ({"max_seconds": -1.0}, "max_seconds")])
def test_bad_feature_params_are_named(params, word) -> None:
    with pytest.raises(ConfigError, match=word):
        build(params)


def test_collation_gives_padded_audio_with_lengths_and_mask() -> None:
    rng = np.random.default_rng(0)
    table = {"a": rng.normal(size=(5, 1)).astype(np.float32),
             "b": rng.normal(size=(9, 1)).astype(np.float32)}
    data = UtteranceDataset(["a", "b"], table, "waveform", {"emotion": np.array([0, 1])})
    assert data.lengths() == [5, 9]
    batch = collate([data[0], data[1]], "waveform")
    assert tuple(batch.x.shape) == (2, 9) and batch.lengths.tolist() == [5, 9]
    assert batch.mask.sum(1).tolist() == [5, 9] and float(batch.x[0, 5:].abs().sum()) == 0
    np.testing.assert_array_equal(batch.x[0, :5].numpy(), table["a"][:, 0])
    with pytest.raises(ConfigError, match="--feature waveform"):
        collate([{"utt_id": "c", "x": np.zeros((4, 3), np.float32),
                  "targets": {"emotion": 0}}], "waveform")


def test_run_pairing_sets_the_models_rate() -> None:
    model = ModelSpec(name="m", version=1, description="d", builder=build_tiny, level="waveform")
    frames_model = ModelSpec(name="f", version=1, description="d", builder=build_tiny)
    wav = FeatureSpec(name="waveform", version=1, description="d", extractor="x:y",
                      level="waveform")
    lld = FeatureSpec(name="lld", version=1, description="d", extractor="x:y", level="frames")
    params = {"sample_rate": 16000, "max_seconds": 20.0}
    assert waveform_feature_params(model, {"sample_rate": 8000}, wav, params, {}) == {
        "sample_rate": 8000, "max_seconds": 20.0}
    assert waveform_feature_params(frames_model, {}, lld, params, {}) == params
    with pytest.raises(ConfigError, match="use --feature waveform"):
        waveform_feature_params(model, {}, lld, params, {})
    with pytest.raises(ConfigError, match="holds audio samples"):
        waveform_feature_params(frames_model, {}, wav, params, {})
    with pytest.raises(ConfigError, match="sample_rate=22050"):
        waveform_feature_params(model, {}, wav, params, {"sample_rate": 22050})
    with pytest.raises(ConfigError, match="--set sample_rate"):
        model_sample_rate({"sample_rate": "fast"})


def test_waveform_models_must_be_torch() -> None:
    spec = ModelSpec(name="w", version=1, description="d", builder="a:b", level="waveform",
                     framework="sklearn")
    assert any("waveform" in p for p in spec.validate())
    assert ModelSpec(name="w", version=1, description="d", builder="a:b",
                     level="waveform").validate() == []
