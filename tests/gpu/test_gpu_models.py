"""On CUDA: every registered torch model (default variant and each variant with its own code
path, enumerated from the registry) trains one epoch on one fold of the synthetic corpus,
predicts its test set, and is timed with CUDA events (DESIGN.md, "Runs, results")."""

from __future__ import annotations

from _gpu import FOLD, require_cuda, suite_cases, suite_config

require_cuda()

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from serbench.plugins import get_registry  # noqa: E402
from serbench.run.pipeline import run_experiment  # noqa: E402

pytestmark = pytest.mark.gpu
REGISTRY = get_registry()


def _run(model: str, variant: str | None, tmp_path, **extra) -> dict:
    config = suite_config(model, variant, REGISTRY, device="cuda", runs_dir=tmp_path, **extra)
    return run_experiment(config, registry=REGISTRY, progress=False, command=["gpu-suite"])


def _check_cuda_record(record: dict, precision: str) -> None:
    timing = record["timing"]
    assert timing["clock"] == "cuda_events"
    assert timing["peak_memory_kind"] == "cuda_max_allocated"
    assert timing["device"] == "cuda" and record["training"]["device"] == "cuda"
    assert timing["device_name"] == torch.cuda.get_device_name(torch.cuda.current_device())
    assert timing["precision"] == precision
    assert timing["train_seconds_per_epoch"] > 0 and timing["inference_latency_ms"] > 0
    assert timing["throughput_utt_per_s"] > 0 and timing["peak_memory_mb"] > 0
    assert 0.0 <= timing["data_wait_share"] < 1.0
    (fold,) = record["folds"]
    assert fold["name"] == FOLD and fold["epochs_run"] == 1
    assert np.isfinite(fold["curve"][0]["train_loss"])
    assert 0.0 <= record["aggregate"]["pooled"]["ua"] <= 1.0


@pytest.mark.parametrize(("model", "variant"), suite_cases(REGISTRY),
                         ids=[f"{m}-{v}" for m, v in suite_cases(REGISTRY)])
def test_model_trains_predicts_and_is_timed_on_cuda(model, variant, tmp_path) -> None:
    record = _run(model, variant, tmp_path)
    _check_cuda_record(record, "fp32")
    predictions = pl.read_parquet(next(tmp_path.rglob("predictions.parquet")))
    assert predictions.height == record["folds"][0]["n_test"]


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_on_cuda(precision, tmp_path) -> None:
    """The default model (its AR-GRU cells run in fp32 inside autocast) at bf16 and at fp16
    (with the GradScaler)."""
    record = _run("ar_gru", None, tmp_path, overrides={"precision": precision})
    _check_cuda_record(record, precision)
    assert record["model"]["hyperparameters"]["precision"] == precision
