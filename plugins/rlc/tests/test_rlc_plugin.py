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


@pytest.mark.parametrize("variant", sorted(PAPER_PARAMS))
def test_every_variant_has_the_papers_size_by_default(variant: str) -> None:
    """Table 2's counts at the paper's input (17 LLDs, 4 classes), within 3%."""
    target = PAPER_PARAMS[variant]
    with torch.device("meta"):
        n = count_parameters(_build(variant))
    print(f"rlc {variant}: {n / 1e6:.2f}M (paper {target / 1e6:.2f}M)")
    assert abs(n - target) / target < 0.03


def test_lexical_branch_is_left_out_of_the_balance() -> None:
    """rlc_al's acoustic system is balanced alone: its count is rlc's plus the branch."""
    spec = InputSpec(feature_dim=17, num_classes=4, vocab_size=500)
    hp = {**plugin.RLC_AL.defaults, **plugin.VARIANTS["s3"]}
    with torch.device("meta"):
        model = resolve(plugin.RLC_AL.builder)(spec, hp)
        acoustic = _build("s3")
    assert model.lexical is not None
    assert model.gca.hidden_size == acoustic.gca.hidden_size
    extra = count_parameters(model.lexical) + 256 * model.lexical.out_dim  # classifier input
    assert count_parameters(model) == count_parameters(acoustic) + extra


def test_params_null_keeps_the_preset_width() -> None:
    with torch.device("meta"):
        model = _build("s3", params=None)
    assert model.gca.hidden_size == 256


def test_lexical_without_tokens_is_a_clear_error() -> None:
    from serbench.errors import ConfigError

    with pytest.raises(ConfigError, match="rlc_al"):
        _build("s3", lexical=True)


def test_set_params_is_a_known_hyperparameter() -> None:
    from serbench.run.model_hparams import resolve_hparams

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
    baseline = _build("baseline", hidden_size=32, params=None)
    assert _chrono(baseline.lstm.lstm)
    spans = 1 / (1 - torch.sigmoid(baseline.lstm.lstm.bias_ih_l0[32:64].detach()))
    assert 2 <= float(spans.min()) and float(spans.max()) <= 500
    assert not _chrono(_build("s1", hidden_size=32, channels=[8, 8, 8, 8, 8],
                              params=None).lstm.lstm)
    assert not _chrono(_build("baseline", hidden_size=32, chrono_tmax=None,
                              params=None).lstm.lstm)
