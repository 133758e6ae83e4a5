"""Functionals, balancing to a parameter count (``--set params=9M``), registration."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from serbench.data.batch import InputSpec
from serbench.errors import ConfigError
from serbench.lazy import resolve
from serbench.nn.masking import lengths_to_mask
from serbench.nn.sizing import count_parameters
from serbench.plugins import Registry, make_plugin_manager

from serbench_baselines.models import masked_functionals

NAMES = ("xia_dnn", "poria_cnn", "poria_lstm")


def test_functionals_ignore_padding() -> None:
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    out = masked_functionals(x, lengths_to_mask(torch.tensor([2]), 3))
    torch.testing.assert_close(out, torch.tensor([[2.0, 1.0, 1.0, 3.0]]), atol=1e-3, rtol=0)


def test_registered_with_valid_metadata() -> None:
    registry = Registry(make_plugin_manager())
    for name in NAMES:
        entry = registry.lookup("model", name)
        assert entry.distribution == "serbench-baselines"
        assert not entry.spec.validate()
        assert set(resolve(entry.spec.search_space)()) <= set(entry.spec.defaults)


def test_registration_does_not_import_torch() -> None:
    code = "import serbench_baselines.plugin, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("target", ["9M", "250k"])
def test_params_balances_the_width(name: str, target: str) -> None:
    spec = Registry(make_plugin_manager()).model(name)
    goal = {"9M": 9e6, "250k": 2.5e5}[target]
    model = resolve(spec.builder)(InputSpec(feature_dim=17, num_classes=4),
                                  {**spec.defaults, "params": target})
    n = count_parameters(model)
    print(f"{name} params={target}: {n:,}")
    assert abs(n - goal) / goal < 0.02


def test_bad_params_is_a_clear_error() -> None:
    spec = Registry(make_plugin_manager()).model("xia_dnn")
    with pytest.raises(ConfigError, match="params=9M"):
        resolve(spec.builder)(InputSpec(feature_dim=17, num_classes=4),
                              {**spec.defaults, "params": "nine"})


def test_poria_lstm_is_chrono_initialised_unless_told_otherwise() -> None:
    """Its LSTM reads 400-800 raw 5 ms frames: chrono initialisation for 500 steps
    (serbench.nn.recurrent.chrono_init_); ``chrono_tmax=None`` gives PyTorch's."""
    spec = InputSpec(feature_dim=17, num_classes=4)
    registry = Registry(make_plugin_manager())
    model_spec = registry.model("poria_lstm")
    build = resolve(model_spec.builder)
    torch.manual_seed(0)
    lstm = build(spec, {**model_spec.defaults, "width": 16}).lstm.lstm
    for layer in range(2):
        b = getattr(lstm, f"bias_ih_l{layer}").detach()
        torch.testing.assert_close(b[:16], -b[16:32])
        spans = 1 / (1 - torch.sigmoid(b[16:32]))
        assert float(spans.min()) >= 2 and float(spans.max()) <= 500
    plain = build(spec, {**model_spec.defaults, "width": 16, "chrono_tmax": None}).lstm.lstm
    assert not torch.equal(plain.bias_ih_l0[:16], -plain.bias_ih_l0[16:32])
