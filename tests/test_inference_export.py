"""``serbench export``: ONNX (run with onnxruntime) and TorchScript, checked against torch.

One tiny BiLSTM+attention run (openSMILE emobase LLDs, global normalisation, one epoch)
on the tiny on-disk corpus. The ONNX model is fed the way a deployment would feed it:
features extracted from the fold's test files and normalised with the sidecar's numbers.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from serbench.cli import cli
from serbench.errors import ConfigError
from serbench.inference.audio_features import FeatureRecipe, extract_files
from serbench.inference.export import CHECK_SHAPES, TOLERANCE, check_export, export_run
from serbench.inference.fold_models import build_model
from serbench.inference.predict import _pad
from serbench.inference.wrapper import TensorModel
from serbench.plugins import get_registry
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus

onnxruntime = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("export")
    csv = write_tiny_corpus(root / "tiny", speakers=3, per_speaker=4)
    record = run_experiment(
        RunConfig(model="bilstm_att", corpus="manifest", data=csv, protocol="loso-speaker",
                  normalisation="global", overrides={"hidden": 4, "batch_size": 8},
                  max_epochs=1, device="cpu", runs_dir=root / "runs"),
        progress=False, command=["serbench", "run"],
    )
    manifest = pl.read_csv(csv)
    paths = {u: root / "tiny" / p for u, p in zip(manifest["utt_id"], manifest["path"], strict=True)}
    run_dir = root / "runs" / record["run_id"]
    return {"dir": run_dir, "record": record, "paths": paths,
            "predictions": pl.read_parquet(run_dir / "predictions.parquet")}


def _deployment_inputs(trained: dict, sidecar: dict, fold: str) -> tuple:
    """The fold's test files as a deployment prepares them from the sidecar alone."""
    rows = trained["predictions"].filter(pl.col("fold") == fold).sort("utt_id")
    files = [trained["paths"][u] for u in rows["utt_id"]]
    feat = sidecar["feature"]
    recipe = FeatureRecipe(feat["name"], feat["version"], feat["params"], "global")
    table = extract_files(files, recipe, get_registry()).table
    norm = sidecar["normalisation"]
    mean, std = np.array(norm["mean"]), np.array(norm["std"])
    arrays = [((table.raw(str(f)) - mean) / std).astype(np.float32) for f in files]
    x, lengths = _pad(arrays, frames=True)
    return x, lengths, rows


def test_onnx_matches_torch_on_the_runs_test_inputs(trained: dict) -> None:
    result = CliRunner().invoke(cli, ["export", str(trained["dir"]), "--format", "onnx",
                                      "--fold", "spk02"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    path = trained["dir"] / "export" / "spk02.onnx"
    sidecar = json.loads((trained["dir"] / "export" / "spk02.onnx.json").read_text())
    classes = trained["record"]["corpus"]["classes"]
    assert sidecar["classes"] == classes and sidecar["fold"] == "spk02"
    # bilstm_att's default input (v2): eGeMAPS functionals of sliding windows
    assert sidecar["feature"]["name"] == "egemapsv02_windows" and sidecar["feature"]["dim"] == 88
    assert len(sidecar["feature"]["names"]) == 88
    assert sidecar["inputs"]["x"]["shape"] == ["batch", "time", 88]
    assert sidecar["normalisation"]["mode"] == "global"
    assert len(sidecar["normalisation"]["std"]) == 88

    x, lengths, rows = _deployment_inputs(trained, sidecar, "spk02")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})[0]
    model = build_model(trained["dir"] / "model_spk02.pt",
                        get_registry().model("bilstm_att"), "spk02")
    with torch.no_grad():
        want = TensorModel(model.net, "frames").eval()(x, lengths).numpy()
    assert np.abs(got - want).max() <= TOLERANCE
    recorded = rows.select([f"score_{c}" for c in classes]).to_numpy()
    np.testing.assert_allclose(got, recorded, atol=TOLERANCE)
    # one file alone (batch of 1, its own length) gives the same row
    one = session.run(None, {"x": x[:1, : int(lengths[0])].numpy(),
                             "lengths": lengths[:1].numpy()})[0]
    np.testing.assert_allclose(one, got[:1], atol=TOLERANCE)


def test_torchscript_export_matches(trained: dict, tmp_path) -> None:
    out = tmp_path / "m.pt"
    done = export_run(trained["dir"], fmt="torchscript", out=out)
    assert done.fold == "spk01" and done.max_abs_diff <= TOLERANCE
    sidecar = json.loads(done.sidecar.read_text())
    x, lengths, rows = _deployment_inputs(trained, sidecar, "spk01")
    module = torch.jit.load(str(out))
    classes = trained["record"]["corpus"]["classes"]
    with torch.no_grad():
        got = module(x, lengths).numpy()
    np.testing.assert_allclose(got, rows.select([f"score_{c}" for c in classes]).to_numpy(),
                               atol=TOLERANCE)


def test_bad_export_arguments(trained: dict) -> None:
    with pytest.raises(ConfigError, match="no fold 'x'"):
        export_run(trained["dir"], fold="x")
    with pytest.raises(ConfigError, match="choose one of onnx, torchscript"):
        export_run(trained["dir"], fmt="tflite")


class _LongestOnly(nn.Module):
    """Reads int(lengths.max()) in Python: a tracer bakes the example's value in."""

    def __init__(self) -> None:
        super().__init__()
        self.out = nn.Linear(3, 2)

    def forward(self, batch):
        longest = int(batch.lengths.max())
        return self.out(batch.x[:, :longest].sum(1) / longest)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_check_catches_a_graph_that_baked_the_example_shape(tmp_path, fmt: str) -> None:
    from serbench.inference.export import CHECK_SHAPES, _inputs, _write

    wrapped = TensorModel(_LongestOnly(), "frames").eval()
    path = tmp_path / f"m.{fmt}"
    _write(wrapped, _inputs("frames", 3, *CHECK_SHAPES[0], seed=0), path, fmt)
    assert check_export(wrapped, path, fmt, "frames", 3) > TOLERANCE


def test_an_export_that_fails_its_check_is_refused_and_removed(trained: dict, tmp_path,
                                                               monkeypatch) -> None:
    import serbench.inference.export as export

    def runtime_fails(*_args, **_kwargs):
        raise RuntimeError("Non concat axis dimensions must match")

    monkeypatch.setattr(export, "check_export", runtime_fails)
    out = tmp_path / "m.pt"
    with pytest.raises(ConfigError, match="does not export to torchscript faithfully.*"
                                          "Non concat axis"):
        export_run(trained["dir"], fmt="torchscript", out=out)
    assert not out.exists() and not (tmp_path / "m.pt.json").exists()
    monkeypatch.setattr(export, "check_export", lambda *a, **k: 2e-3)
    with pytest.raises(ConfigError, match="differs from torch by 2.00e-03"):
        export_run(trained["dir"], fmt="torchscript", out=out)
    assert not out.exists()


def _random_model(name: str, dim: int, **hparams) -> nn.Module:
    """``name``'s default variant with random weights (seed 0), in eval mode."""
    from serbench.data.batch import InputSpec
    from serbench.lazy import resolve

    spec = get_registry().model(name)
    hp = {**spec.defaults, **(spec.variants.get(spec.default_variant) or {}), **hparams}
    torch.manual_seed(0)
    names = tuple(f"f{i}" for i in range(dim))
    return resolve(spec.builder)(InputSpec(feature_dim=dim, num_classes=4,
                                           feature_names=names), hp).eval()


# (batch, time): odd and even lengths at every pooling stage, a single frame, batch of 1
_SHAPES = ((2, 23), (1, 9), (5, 41), (3, 2), (4, 64), (1, 1), (2, 7))


def test_poria_cnn_exports_to_onnx_for_every_length(tmp_path) -> None:
    """Its max-pooling once padded odd lengths in a Python branch, which the tracer froze
    at the example's length (1e-3 off on other lengths); now ONNX matches torch."""
    from serbench.inference.export import _inputs, _write

    wrapped = TensorModel(_random_model("poria_cnn", 5, width=8, params=None), "frames").eval()
    path = tmp_path / "poria_cnn.onnx"
    _write(wrapped, _inputs("frames", 5, *CHECK_SHAPES[0], seed=0), path, "onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for seed, (batch, time) in enumerate(_SHAPES):
        x, lengths = _inputs("frames", 5, batch, time, seed + 1)
        with torch.no_grad():
            want = wrapped(x, lengths).numpy()
        got = session.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})[0]
        assert np.abs(got - want).max() <= TOLERANCE, (batch, time)
