"""``mlp`` (serbench/models/mlp.py): built through the registry, its layers and parameter
count by hand, the functionals-only check, and a real ``serbench run`` on the tiny corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from serbench.cli import cli
from serbench.data.batch import Batch, InputSpec
from serbench.errors import ConfigError
from serbench.plugins import get_registry
from serbench.testing.conformance import ModelConformance
from serbench.testing.corpora import write_tiny_corpus
from serbench.training.fold_torch import build_torch_model

torch.set_num_threads(1)

D, C = 10, 4


class TestMlpConformance(ModelConformance):
    model_name = "mlp"
    hparams = {"hidden": "8,6", "dropout": 0.1}
    level = "functionals"
    feature_dim = 5


class TestMlpEnsembleConformance(ModelConformance):
    """``members=2``: a deep ensemble obeys the same contract as one network."""
    model_name = "mlp"
    hparams = {"hidden": "8,6", "dropout": 0.1, "members": 2}
    level = "functionals"
    feature_dim = 5


def build(hidden, level="functionals", **hparams) -> torch.nn.Module:
    spec = InputSpec(feature_dim=D, num_classes=C, level=level,
                     feature_names=tuple(f"f{i}" for i in range(D)))
    return build_torch_model(get_registry().model("mlp"), spec, {"hidden": hidden, **hparams})


def linears(model: torch.nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules()
            if isinstance(m, torch.nn.Linear)]


def n_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_registered_as_a_torch_functionals_model():
    spec = get_registry().model("mlp")
    assert spec.framework == "torch" and spec.level == "functionals"
    assert spec.default_feature == "egemaps"


@pytest.mark.parametrize("hidden", ["64,32", [64, 32], " 64 , 32 "])
def test_two_hidden_layers_by_hand(hidden):
    model = build(hidden)
    assert linears(model) == [(D, 64), (64, 32), (32, C)]
    # weights + biases of each layer: (10*64 + 64) + (64*32 + 32) + (32*4 + 4)
    assert n_parameters(model) == (D * 64 + 64) + (64 * 32 + 32) + (32 * C + C) == 2916
    relus = [m for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    assert len(relus) == 2


def test_one_int_is_one_hidden_layer():
    assert linears(build(16)) == [(D, 16), (16, C)]


def test_no_hidden_layer_is_a_linear_model():
    model = build("").eval()
    assert linears(model) == [(D, C)]
    assert n_parameters(model) == D * C + C == 44
    assert not any(isinstance(m, torch.nn.ReLU) for m in model.modules())
    # logits are exactly W x + b
    (layer,) = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    x = torch.randn(3, D, generator=torch.Generator().manual_seed(0))
    batch = Batch(x=x, lengths=torch.ones(3, dtype=torch.long),
                  mask=torch.ones(3, 1, dtype=torch.bool))
    torch.testing.assert_close(model(batch), x @ layer.weight.T + layer.bias)


def test_frames_are_refused_naming_a_functionals_feature():
    with pytest.raises(ConfigError) as info:
        build("64,32", level="frames")
    message = str(info.value)
    assert "functionals" in message and "egemaps" in message


# --- serbench run --model mlp ---------------------------------------------------------


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=3, per_speaker=4)


def test_serbench_run_mlp_on_the_tiny_corpus(env, tiny_csv):
    result = CliRunner().invoke(cli, [
        "run", "--model", "mlp", "--corpus", "manifest", "--data", str(tiny_csv),
        "--protocol", "loso-speaker", "--max-epochs", "2", "--set", "hidden=16,8",
        "--set", "batch_size=8", "-q"], catch_exceptions=True)
    assert result.exit_code == 0, result.output + repr(result.exception)
    (folder,) = [p for p in (env / "runs").iterdir() if p.is_dir()]
    record = json.loads((folder / "record.json").read_text())
    assert record["status"] == "complete" and record["model"]["name"] == "mlp"
    assert record["feature"]["name"] == "egemaps" and record["feature"]["level"] == "functionals"
    assert record["training"]["config"]["max_epochs"] == 2
    assert len(record["folds"]) == 3
    assert all(1 <= f["best_epoch"] <= 2 for f in record["folds"])
    # 88 eGeMAPS functionals -> 16 -> 8 -> 4 classes
    assert record["model"]["n_parameters"] == (88 * 16 + 16) + (16 * 8 + 8) + (8 * 4 + 4)
    assert 0 <= record["aggregate"]["pooled"]["ua"] <= 1


def test_serbench_run_mlp_ensemble_on_the_tiny_corpus(env, tiny_csv):
    result = CliRunner().invoke(cli, [
        "run", "--model", "mlp", "--corpus", "manifest", "--data", str(tiny_csv),
        "--protocol", "loso-speaker", "--max-epochs", "2", "--set", "hidden=16,8",
        "--set", "members=3", "--set", "batch_size=8", "-q"], catch_exceptions=True)
    assert result.exit_code == 0, result.output + repr(result.exception)
    (folder,) = [p for p in (env / "runs").iterdir() if p.is_dir()]
    record = json.loads((folder / "record.json").read_text())
    assert record["status"] == "complete"
    assert record["model"]["n_parameters"] == 3 * ((88 * 16 + 16) + (16 * 8 + 8) + (8 * 4 + 4))
    for fold in record["folds"]:
        assert 1 <= fold["best_epoch"] <= 2


def test_members_must_be_a_positive_integer(env, tiny_csv):
    result = CliRunner().invoke(cli, [
        "run", "--model", "mlp", "--corpus", "manifest", "--data", str(tiny_csv),
        "--set", "members=0", "-q"])
    assert isinstance(result.exception, ConfigError)
    assert "--set members=0: expected int >= 1" in str(result.exception)
    assert not (env / "runs").exists() or not any((env / "runs").iterdir())
