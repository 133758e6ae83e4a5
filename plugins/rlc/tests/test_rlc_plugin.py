"""Registration, metadata, the paper preset's size, and parameter balancing."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from serbench.data.batch import InputSpec
from serbench.lazy import resolve
from serbench.nn.sizing import count_parameters
from serbench.plugins import Registry, make_plugin_manager

from serbench_rlc import plugin

#: Table 2's parameter counts (IEMOCAP, acoustic input).
PAPER_PARAMS = {"baseline": 9.27e6, "s1": 9.15e6, "s2": 9.07e6, "s3": 9.11e6}


def _build(variant: str, **extra: object) -> torch.nn.Module:
    hp = {**plugin.DEFAULTS, **plugin.VARIANTS[variant], **extra}
    return resolve(plugin.RLC.builder)(InputSpec(feature_dim=17, num_classes=4), hp)


def test_registered_through_the_entry_point() -> None:
    registry = Registry(make_plugin_manager())
    for name in ("rlc", "rlc_al"):
        entry = registry.lookup("model", name)
        assert entry.distribution == "serbench-rlc"
        assert not entry.spec.validate()
        assert set(entry.spec.variants) == {"baseline", "s1", "s2", "s3"}
    assert registry.model("rlc_al").inputs == ("tokens",)
    assert registry.model("rlc").inputs == ()


def test_registration_does_not_import_torch() -> None:
    code = "import serbench_rlc.plugin, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_search_space_covers_known_keys() -> None:
    space = resolve(plugin.RLC.search_space)()
    assert set(space) <= set(plugin.DEFAULTS)


def test_paper_preset_size_is_the_papers() -> None:
    n = count_parameters(_build("s3"))
    print(f"rlc paper preset: {n / 1e6:.2f}M parameters (paper, Table 2 S3: 9.11M)")
    assert abs(n - PAPER_PARAMS["s3"]) / PAPER_PARAMS["s3"] < 0.1


def test_s2_preset_size_is_the_papers() -> None:
    n = count_parameters(_build("s2"))
    print(f"rlc s2 preset: {n / 1e6:.2f}M parameters (paper: 9.07M)")
    assert abs(n - PAPER_PARAMS["s2"]) / PAPER_PARAMS["s2"] < 0.1


@pytest.mark.parametrize("variant", ["baseline", "s1"])
def test_balancing_reaches_the_papers_size(variant: str) -> None:
    target = PAPER_PARAMS[variant]
    n = count_parameters(_build(variant, params=target))
    print(f"rlc {variant} balanced: {n / 1e6:.2f}M (paper {target / 1e6:.2f}M)")
    assert abs(n - target) / target < 0.01


def test_lexical_without_tokens_is_a_clear_error() -> None:
    from serbench.errors import ConfigError

    with pytest.raises(ConfigError, match="rlc_al"):
        _build("s3", lexical=True)


def test_set_params_is_a_known_hyperparameter() -> None:
    from serbench.run.resolve import resolve_hparams

    hp = resolve_hparams(plugin.RLC, "baseline", {"params": "9.27M"}, max_epochs=None)
    assert hp["params"] == "9.27M" and hp["frontend"] == "none"


def _chrono(lstm: torch.nn.LSTM) -> bool:
    """Whether every layer's gate biases are chrono's (b_i = -b_f >= 0, the rest zero)."""
    h = lstm.hidden_size
    for layer in range(lstm.num_layers):
        b = getattr(lstm, f"bias_ih_l{layer}").detach()
        hh = getattr(lstm, f"bias_hh_l{layer}").detach()
        if not (torch.equal(b[:h], -b[h : 2 * h]) and bool((b[h : 2 * h] >= 0).all())
                and not b[2 * h :].any() and not hh.any()):
            return False
    return True


def test_only_the_baseline_lstm_is_chrono_initialised() -> None:
    """The baseline's LSTM reads raw 5 ms frames (chrono, T_max 500); after the front end
    (S1/S2, about 20 steps) PyTorch's initialisation stays."""
    torch.manual_seed(0)
    baseline = _build("baseline", hidden_size=32)
    assert _chrono(baseline.lstm.lstm)
    spans = 1 / (1 - torch.sigmoid(baseline.lstm.lstm.bias_ih_l0[32:64].detach()))
    assert 2 <= float(spans.min()) and float(spans.max()) <= 500
    assert not _chrono(_build("s1", hidden_size=32, channels=[8, 8, 8, 8, 8]).lstm.lstm)
    assert not _chrono(_build("baseline", hidden_size=32, chrono_tmax=None).lstm.lstm)
