"""--precision (autocast, GradScaler), the prefetching data path, and the device errors:
all checked on the CPU (tests/gpu/ repeats the device parts on CUDA)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from _training_helpers import CLASSES, toy_problem
from click.testing import CliRunner

from serbench.cli import cli
from serbench.components import ModelSpec
from serbench.data.batch import Batch
from serbench.errors import ConfigError
from serbench.plugins import get_registry
from serbench.training import fold_torch, precision, trainer
from serbench.training.config import TrainingConfig
from serbench.training.device import DeviceOutOfMemory
from serbench.training.fold import run_fold
from serbench.training.precision import check_precision, cpu_has_bf16
from serbench.training.prefetch import Prefetcher

torch.set_num_threads(1)
CPU = torch.device("cpu")


def _fold(model: str, **hp):
    manifest, fold, table = toy_problem()
    spec = get_registry().model(model) if model != "dummy" else ModelSpec(
        name="dummy", version=1, description="d", builder="serbench.testing.dummy:build",
        defaults={"hidden": 8})
    params = {**spec.defaults, "max_epochs": 1, "batch_size": 8, **hp}
    return run_fold(spec, params, fold, manifest, table, CLASSES, seed=0, device="cpu")


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bfloat16 for oneDNN "
                    "(AVX-512 BF16 or AMX); bf16 is refused here (test below)")
@pytest.mark.parametrize("model, hp", [
    ("bilstm_att", {"hidden": 6}),
    # AR-GRU: its fast GRU recurrence runs in fp32 inside the bf16 autocast
    ("ar_gru", {"hidden_size": 8, "attention_size": 8, "dense_size": 8,
                "allow_empty_context": True}),
])
def test_bf16_trains_on_cpu_and_is_recorded(model, hp) -> None:
    fp32 = _fold(model, **hp)
    bf16 = _fold(model, precision="bf16", **hp)
    assert fp32.timing["precision"] == "fp32" and bf16.timing["precision"] == "bf16"
    assert np.isfinite(bf16.scores).all()
    np.testing.assert_allclose(bf16.scores.sum(1), 1.0, rtol=1e-3)
    # the same model and seed: bf16 rounding moves the scores a little, not arbitrarily
    assert 0 < np.abs(bf16.scores - fp32.scores).max() < 0.2


def test_fp16_uses_a_grad_scaler(monkeypatch) -> None:
    """fp16 is refused on a CPU (oneDNN's LSTM has no fp16); with that check lifted, a
    model without an LSTM shows the scaler at work."""
    with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
        _fold("bilstm_att", hidden=6, precision="fp16")
    monkeypatch.setattr(trainer, "check_precision", lambda *a: None)
    scaled = []
    real = torch.amp.GradScaler.scale

    def spy(self, loss):
        scaled.append(self.is_enabled())
        return real(self, loss)

    monkeypatch.setattr(torch.amp.GradScaler, "scale", spy)
    out = _fold("dummy", precision="fp16")
    assert scaled and all(scaled) and np.isfinite(out.scores).all()
    scaled.clear()
    _fold("dummy")
    assert scaled and not any(scaled)  # fp32: the scaler passes the loss through


def test_precision_is_checked_before_any_work(monkeypatch) -> None:
    with pytest.raises(ConfigError, match="choose one of fp32, bf16, fp16"):
        TrainingConfig(precision="fp8")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Tesla V100-SXM2-16GB")
    with pytest.raises(ConfigError, match=r"Tesla V100-SXM2-16GB has no bfloat16 support .* "
                                          r"use --precision fp16 or fp32"):
        check_precision("bf16", torch.device("cuda"))
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    check_precision("bf16", CPU)  # CPU autocast has bf16 where oneDNN has it
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    with pytest.raises(ConfigError, match=r"this CPU has no native bfloat16 .* use --precision "
                                          r"fp32, or bf16 on a GPU"):
        check_precision("bf16", CPU)


def test_cli_precision_option_errors_and_device_without_cuda() -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["run", "--model", "dummy", "--precision", "fp8"])
    assert bad.exit_code != 0 and "fp8" in bad.output and "fp32" in bad.output
    clash = runner.invoke(cli, ["run", "--model", "bilstm_att", "--precision", "bf16",
                                 "--set", "precision=fp16"])
    assert clash.exit_code != 0 and "disagree" in str(clash.exception)
    if not torch.cuda.is_available():
        res = runner.invoke(cli, ["run", "--model", "bilstm_att", "--device", "cuda"])
        assert res.exit_code != 0 and "no CUDA device" in str(res.exception)
        assert "--device cpu" in str(res.exception)


def test_out_of_memory_names_model_batch_size_and_what_to_lower(monkeypatch) -> None:
    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(fold_torch, "train", oom)
    with pytest.raises(DeviceOutOfMemory) as caught:
        _fold("bilstm_att", hidden=6, batch_size=64)
    message = str(caught.value)
    assert "during training of model 'bilstm_att' at batch size 64 (fp32)" in message
    assert "--set batch_size=32" in message and "--precision bf16" in message
    assert isinstance(caught.value.__cause__, torch.cuda.OutOfMemoryError)


def _batches(n: int):
    return [[i, i + 1] for i in range(0, 2 * n, 2)]


def _collate(rows, delay: float = 0.0) -> Batch:
    time.sleep(delay)
    x = torch.tensor([[float(r)] for r in rows]).unsqueeze(1)  # (B, 1, 1)
    return Batch(x=x, lengths=torch.ones(len(rows), dtype=torch.long),
                 mask=torch.ones(len(rows), 1, dtype=torch.bool),
                 targets={"emotion": torch.tensor(rows)}, utt_ids=[str(r) for r in rows])


@pytest.mark.parametrize("depth", [0, 2])
def test_prefetcher_keeps_the_order_and_measures_waiting(depth) -> None:
    loader = Prefetcher(_batches(6), lambda r: _collate(r, 0.01), CPU, depth=depth)
    seen = [(list(rows), device.targets["emotion"].tolist()) for rows, _, device in loader]
    assert seen == [(b, b) for b in _batches(6)]
    assert 0.05 < loader.wait_seconds < 2.0  # six collations of 10 ms waited for


def test_prefetcher_overlaps_collation_with_the_consumer() -> None:
    """With a thread, a consumer as slow as the collation waits for the first batch only."""
    loader = Prefetcher(_batches(8), lambda r: _collate(r, 0.02), CPU, depth=2)
    for _ in loader:
        time.sleep(0.03)
    assert loader.wait_seconds < 0.08  # synchronous collation would wait 8 x 20 ms


def test_prefetcher_raises_the_collation_error_and_stops_early_cleanly() -> None:
    def broken(rows):
        if rows[0] >= 4:
            raise ValueError("row 4 is corrupt")
        return _collate(rows)

    with pytest.raises(ValueError, match="row 4 is corrupt"):
        list(Prefetcher(_batches(5), broken, CPU, depth=2))
    loader = iter(Prefetcher(_batches(50), _collate, CPU, depth=2))
    next(loader)
    loader.close()  # the producer thread is released, not left blocked on a full queue


def test_record_timing_carries_precision_and_data_wait_share() -> None:
    from serbench.run.record import aggregate_timing

    folds = [{"timing": {"clock": "cuda_events", "precision": "bf16", "data_wait_share": s,
                         "train_seconds_per_epoch": 1.0}} for s in (0.1, 0.3)]
    timing = aggregate_timing(folds, "cuda")
    assert timing["precision"] == "bf16"
    assert timing["data_wait_share"] == pytest.approx(0.2)
    old = aggregate_timing([{"timing": {"clock": "cpu_monotonic"}}], "cpu")  # sklearn, older
    assert "precision" not in old and "data_wait_share" not in old
