"""Registration, metadata, the variants' structure and the paper preset's size."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from serbench.data.batch import InputSpec
from serbench.lazy import resolve
from serbench.nn.masking import lengths_to_mask
from serbench.nn.sizing import count_parameters
from serbench.plugins import Registry, make_plugin_manager

from serbench_drn import plugin

PAPER_PARAMS = 9.9e6  # Table 1, "The proposed"


def _build(variant: str, **extra: object) -> torch.nn.Module:
    hp = {**plugin.DEFAULTS, **plugin.VARIANTS[variant], **extra}
    return resolve(plugin.DRN.builder)(InputSpec(feature_dim=17, num_classes=4), hp)


def test_registered_through_the_entry_point() -> None:
    entry = Registry(make_plugin_manager()).lookup("model", "drn")
    assert entry.distribution == "serbench-drn"
    assert not entry.spec.validate()
    assert list(entry.spec.variants) == ["baseline", "s1", "s2", "s3", "s4"]
    assert entry.spec.preferred["protocol"] == "kfold"
    assert entry.spec.preferred["protocol_options"]["k"] == 10


def test_registration_does_not_import_torch() -> None:
    code = "import serbench_drn.plugin, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_search_space_covers_known_keys() -> None:
    assert set(resolve(plugin.DRN.search_space)()) <= set(plugin.DEFAULTS)


@pytest.mark.parametrize("variant", ["baseline", "s1", "s2", "s3", "s4"])
def test_every_variant_has_the_papers_size_by_default(variant: str) -> None:
    """DRN's 9.9M (Table 1) for every Table 2 row at the paper's input (17 LLDs, 4
    classes), within 3%: the ablations differ in structure, not capacity."""
    with torch.device("meta"):
        n = count_parameters(_build(variant))
    print(f"drn {variant}: {n / 1e6:.2f}M parameters (paper, Table 1: 9.9M)")
    assert abs(n - PAPER_PARAMS) / PAPER_PARAMS < 0.03


def test_params_null_keeps_the_preset_width() -> None:
    with torch.device("meta"):
        assert _build("s4", params=None).lstm.out_dim == 256


def test_temporal_resolution_is_the_texts() -> None:
    """10 ms frames: DRN (S2-S4) strides twice (40 ms steps, 100 frames -> 25), the plain
    CNN and S1 four times (160 ms, -> 7), Sec. 2.1."""
    x = torch.randn(1, 100, 17)
    lengths = torch.tensor([100])
    for variant, steps in (("baseline", 7), ("s1", 7), ("s2", 25), ("s4", 25)):
        model = _build(variant, hidden_size=8, params=None).eval()
        out, out_lengths = model.frontend(x, lengths)
        assert out.shape[1] == steps and int(out_lengths[0]) == steps, variant


def test_single_and_multi_head_attention_maps() -> None:
    lengths = torch.tensor([60, 35])
    x = torch.randn(2, 60, 17)
    from serbench.data.batch import Batch

    batch = Batch(x=x, lengths=lengths, mask=lengths_to_mask(lengths))
    for variant, heads in (("s3", 1), ("s4", 4)):
        maps = _build(variant, hidden_size=8, params=None).eval().attention_maps(batch)
        # "at each group level" (Sec. 2.2): every group with residual blocks
        assert sorted(maps) == [f"self_attention/g{g}u{u}" for g in (2, 3, 4, 5) for u in (1, 2)]
        weights = maps["self_attention/g5u1"]  # 60 frames -> 15 steps; 35 -> 9
        assert weights.shape == (2, heads, 15, 15)
        torch.testing.assert_close(weights[1, :, :9].sum(-1), torch.ones(heads, 9))
        assert torch.all(weights[1, :, :, 9:] == 0)  # padded keys get no weight
    assert not _build("s2", hidden_size=8, params=None).eval().attention_maps(batch)


def test_set_params_is_a_known_hyperparameter() -> None:
    from serbench.run.model_hparams import resolve_hparams

    assert resolve_hparams(plugin.DRN, None, {"params": "9.9M"}, max_epochs=None)["params"] == "9.9M"
