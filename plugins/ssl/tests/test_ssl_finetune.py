"""``ssl_finetune`` on tiny local upstreams: conformance (padding invariance on audio),
freezing, the group-norm path, and the errors before any work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from _ssl_tiny import LAYERS, save_tiny
from serbench.data.batch import InputSpec
from serbench.errors import ConfigError
from serbench.testing.conformance import ModelConformance

from serbench_ssl.finetune import build, freeze_layers

_FOLDERS: dict[tuple[str, str], Path] = {}


def tiny_upstream(tmp_root: Path, norm: str = "layer") -> Path:
    """A tiny WavLM saved once per test session (``norm``: its CNN's feat_extract_norm)."""
    key = (str(tmp_root), norm)
    if key not in _FOLDERS:
        _FOLDERS[key] = save_tiny(tmp_root / f"wavlm-{norm}", "wavlm", normalize=True,
                                  feat_extract_norm=norm)
    return _FOLDERS[key]


@pytest.fixture(scope="class")
def upstream_dir(request, tmp_path_factory) -> None:
    request.cls.upstream = tiny_upstream(tmp_path_factory.getbasetemp(), request.cls.norm)


@pytest.mark.usefixtures("upstream_dir")
class TestSslFinetune(ModelConformance):
    model_name = "ssl_finetune"
    level = "waveform"
    feature_dim = 1
    # samples at 16 kHz; 1 and 100 are shorter than the CNN's receptive field (325)
    lengths = (2400, 100, 1600, 1)
    hparams = {"projection": 8, "unfreeze_top": 1}
    norm = "layer"
    upstream: Path
    atol = 1e-4

    def resolved_hparams(self) -> dict[str, Any]:
        return {**super().resolved_hparams(), "upstream": str(self.upstream)}


class TestSslFinetuneGroupNorm(TestSslFinetune):
    """A base-model-like CNN (group norm over time): one utterance at a time."""

    norm = "group"


def _spec(**kw: Any) -> InputSpec:
    return InputSpec(**{"feature_dim": 1, "num_classes": 3, "level": "waveform",
                        "feature_names": ("waveform",), "sample_rate": 16000, **kw})


def test_only_the_top_layers_train(tmp_path) -> None:
    model = build(_spec(), {"upstream": str(tiny_upstream(tmp_path)), "unfreeze_top": 1,
                            "projection": 8})
    trainable = {n for n, p in model.upstream.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(f"encoder.layers.{LAYERS - 1}.") for n in trainable)
    assert all(p.requires_grad for p in model.head.parameters())
    assert freeze_layers(model.upstream, 0) == []


def test_bad_input_is_refused_before_loading(tmp_path) -> None:
    folder = str(tiny_upstream(tmp_path))
    with pytest.raises(ConfigError, match="--set upstream="):
        build(_spec(), {})
    with pytest.raises(ConfigError, match="--feature waveform"):
        build(_spec(level="frames", feature_dim=4, feature_names=()), {"upstream": folder})
    with pytest.raises(ConfigError, match="16 kHz"):
        build(_spec(sample_rate=8000), {"upstream": folder})
    with pytest.raises(ConfigError, match="unfreeze_top=5"):
        build(_spec(), {"upstream": folder, "unfreeze_top": 5})
    with pytest.raises(ConfigError, match="no such folder"):
        build(_spec(), {"upstream": str(tmp_path / "missing")})


def test_whisper_is_refused(tmp_path) -> None:
    folder = save_tiny(tmp_path / "whisper", "whisper")
    with pytest.raises(ConfigError, match="'whisper' is not one"):
        build(_spec(), {"upstream": str(folder)})


def test_normalisation_uses_valid_samples_only(tmp_path) -> None:
    model = build(_spec(), {"upstream": str(tiny_upstream(tmp_path)), "projection": 8})
    assert model.normalize
    x = torch.zeros(1, 1000)
    x[0, :600] = torch.randn(600) * 3 + 2
    prepared, _ = model._prepare(x, torch.tensor([600]))
    assert abs(float(prepared[0, :600].mean())) < 1e-4
    assert abs(float(prepared[0, :600].std(unbiased=False)) - 1) < 1e-3
    assert float(prepared[0, 600:].abs().max()) == 0.0
