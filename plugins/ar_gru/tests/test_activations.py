"""The candidate-activation registry third parties extend."""

from __future__ import annotations

import pytest
import torch
from serbench.errors import ConfigError, SerbenchError

from serbench_ar_gru import activations
from serbench_ar_gru.activations import activation_names, make_activation, register_activation
from serbench_ar_gru.gru import GRU


@pytest.fixture(autouse=True)
def _isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(activations, "_registry", dict(activations._registry))


def test_builtins() -> None:
    assert {"tanh", "relu", "arelu", "leaky_relu", "selu", "mish"} <= set(activation_names())
    x = torch.linspace(-2, 2, 9)
    torch.testing.assert_close(make_activation("tanh")(x), torch.tanh(x))
    torch.testing.assert_close(make_activation("relu")(x), torch.relu(x))
    torch.testing.assert_close(make_activation("selu")(x), torch.nn.functional.selu(x))
    torch.testing.assert_close(make_activation("mish")(x), torch.nn.functional.mish(x))
    leaky = make_activation("leaky_relu", {"negative_slope": 0.2, "alpha": 5.0})
    torch.testing.assert_close(leaky(x), torch.nn.functional.leaky_relu(x, 0.2))


def test_arelu_reads_only_its_hyperparameters() -> None:
    act = make_activation("arelu", {"alpha": 0.05, "beta": -1.0, "alpha_floor": 0.0, "lr": 1e-3})
    assert act.alpha.item() == pytest.approx(0.05) and act.beta.item() == pytest.approx(-1.0)
    assert act.alpha_floor == 0.0
    assert act.activation_name == "arelu"


class Swish(torch.nn.Module):
    def __init__(self, swish_beta: float = 1.0):
        super().__init__()
        self.swish_beta = swish_beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.swish_beta * x)


def test_third_party_activation_in_a_gru() -> None:
    register_activation("swish", Swish, params=("swish_beta",), description="x * sigmoid(bx)")
    gru = GRU(2, 3, activation="swish", activation_hparams={"swish_beta": 2.0})
    assert gru.activations["l0"].swish_beta == 2.0
    out, _ = gru(torch.randn(1, 4, 2), torch.tensor([4]))
    assert torch.isfinite(out).all()
    # lazy references work as well
    register_activation("hardtanh", "torch.nn:Hardtanh")
    assert type(make_activation("hardtanh")).__name__ == "Hardtanh"


def test_duplicates_and_bad_arguments_are_errors() -> None:
    with pytest.raises(SerbenchError, match="already registered"):
        register_activation("relu", "torch.nn:ReLU")
    register_activation("relu", "torch.nn:ReLU6", overwrite=True)
    assert type(make_activation("relu")).__name__ == "ReLU6"
    with pytest.raises(ConfigError, match="activation_params"):
        make_activation("tanh", extra={"bogus": 1})


def test_entry_point_group_adds_activations(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    eps = [EntryPoint("hardswish", "torch.nn:Hardswish", activations.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(activations, "_entry_points_loaded", False)
    monkeypatch.setattr(
        activations.metadata, "entry_points",
        lambda group: eps if group == activations.ENTRY_POINT_GROUP else [],
    )
    assert "hardswish" in activation_names()
    assert type(make_activation("hardswish")).__name__ == "Hardswish"


def test_entry_point_clashing_with_a_builtin_names_both(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    eps = [EntryPoint("relu", "my_pkg:ReLU", activations.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(activations, "_entry_points_loaded", False)
    monkeypatch.setattr(activations.metadata, "entry_points", lambda group: eps)
    with pytest.raises(SerbenchError, match="'relu' from entry point 'my_pkg:ReLU'"):
        activation_names()
