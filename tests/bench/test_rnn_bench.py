"""Speed of the papers' custom recurrent cells against PyTorch's fused cells (issue 11).

Run by ``tox -e bench`` (pytest-benchmark, skipped in the default suite). Each custom
cell is timed against ``torch.nn.GRU`` / ``torch.nn.LSTM`` of the same size *in the same
process*, alternating the two round by round so that a change in machine load hits both;
the printed ratio is the median of the per-round ratios (custom / fused). Target: a
training step (forward + backward) ratio of at most 1.5 at batch 32.

* ``test_cell_vs_fused``: forward (inference, ``no_grad``) and forward + backward, at
  batch 1 (latency) and batch 32 (training), ``SERBENCH_BENCH_FRAMES`` frames (400),
  ``SERBENCH_BENCH_THREADS`` threads (2), the papers' sizes:
  AR-GRU in IAAN (45 inputs, 128 units, bidirectional, AReLU), the issue's AR-GRU
  (26 inputs, 128 units), A-LSTM (256 inputs from the FC layers, 128 units,
  bidirectional, T = {5, 3, 1}) and the GCA-LSTM gated LSTM (256 inputs, 256 units).
* ``test_cell_reference``: the reference Python loops at batch 32, for the speed-up.
* ``test_paper_model_epoch``: one training epoch of each paper model on one fold of the
  synthetic corpus (its preferred features), with the trainer's share of padded frames.

The pytest-benchmark JSON (``--benchmark-autosave``, under ``.benchmarks/``) holds every
timing, and each ratio in ``extra_info``, so two commits compare with
``pytest-benchmark compare``. The machine's load average is printed beside each ratio:
on a busy machine absolute times are noise and even ratios move.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import nn

FRAMES = int(os.environ.get("SERBENCH_BENCH_FRAMES", "400"))
THREADS = int(os.environ.get("SERBENCH_BENCH_THREADS", "2"))
ROUNDS = int(os.environ.get("SERBENCH_BENCH_ROUNDS", "7"))
TARGET = 1.5
_SUMMARY: list[str] = []


@dataclass
class Pair:
    """Two modules computing the same function of ``x``: the custom cell and the fused one."""

    custom: Callable[[torch.Tensor], torch.Tensor]
    fused: Callable[[torch.Tensor], torch.Tensor]
    reference: Callable[[torch.Tensor], torch.Tensor]
    params: list[torch.Tensor]
    input_size: int


def _ar_gru(input_size: int, bidirectional: bool) -> Callable[[int], Pair]:
    def make(batch: int) -> Pair:
        from serbench_ar_gru.gru import GRU

        fused = nn.GRU(input_size, 128, batch_first=True, bidirectional=bidirectional)
        custom = GRU(input_size, 128, activation="arelu", bidirectional=bidirectional,
                     activation_hparams={"alpha": 0.01, "beta": 1.0}, implementation="fast")
        reference = GRU(input_size, 128, activation="arelu", bidirectional=bidirectional,
                        activation_hparams={"alpha": 0.01, "beta": 1.0},
                        implementation="reference")
        lengths = torch.full((batch,), FRAMES)
        return Pair(lambda x: custom(x, lengths)[0], lambda x: fused(x)[0],
                    lambda x: reference(x, lengths)[0],
                    [*custom.parameters(), *fused.parameters(), *reference.parameters()],
                    input_size)

    return make


def _a_lstm(batch: int) -> Pair:
    from serbench_a_lstm.cell import BiALSTM

    fused = nn.LSTM(256, 128, batch_first=True, bidirectional=True)
    custom = BiALSTM(256, 128, time_steps=(5, 3, 1), implementation="fast")
    reference = BiALSTM(256, 128, time_steps=(5, 3, 1), implementation="reference")
    lengths = torch.full((batch,), FRAMES)
    return Pair(lambda x: custom(x, lengths), lambda x: fused(x)[0],
                lambda x: reference(x, lengths),
                [*custom.parameters(), *fused.parameters(), *reference.parameters()], 256)


def _gca(batch: int) -> Pair:
    from serbench_rlc.gca import GCALSTM

    from serbench.nn.fast_rnn.gated_lstm import gated_lstm_sequence

    fused = nn.LSTM(256, 256, batch_first=True)
    gca = GCALSTM(256, 256, iterations=1)
    lengths = torch.full((batch,), FRAMES)
    mask = torch.ones(batch, FRAMES, dtype=torch.bool)
    r = torch.rand(batch, FRAMES)
    return Pair(
        lambda x: gated_lstm_sequence(x, r, lengths, gca.weight_ih, gca.weight_hh, gca.bias)[0],
        lambda x: fused(x)[0],
        lambda x: gca.attend(x, r, mask),
        [*gca.parameters(), *fused.parameters()], 256,
    )


CELLS: dict[str, Callable[[int], Pair]] = {
    "ar_gru_iaan_45x128_bi": _ar_gru(45, True),
    "ar_gru_26x128": _ar_gru(26, False),
    "a_lstm_256x128_bi": _a_lstm,
    "gca_gated_lstm_256x256": _gca,
}


@pytest.fixture(scope="module", autouse=True)
def _print_summary():
    yield
    if _SUMMARY:
        print("\n\ncustom / fused time, median of interleaved rounds "
              f"({FRAMES} frames, {THREADS} threads; target <= {TARGET} for train at batch 32):")
        for line in _SUMMARY:
            print("  " + line)


def _run(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, params, train: bool) -> None:
    if train:
        for p in params:
            p.grad = None
        fn(x).square().mean().backward()
    else:
        with torch.no_grad():
            fn(x)


def _load() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"load {load:.1f} on {os.cpu_count()} cores"


@pytest.mark.parametrize("mode", ["forward", "train"])
@pytest.mark.parametrize("batch", [1, 32])
@pytest.mark.parametrize("cell", list(CELLS))
def test_cell_vs_fused(benchmark, cell: str, batch: int, mode: str) -> None:
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    pair = CELLS[cell](batch)
    x = torch.randn(batch, FRAMES, pair.input_size)
    train = mode == "train"
    times: dict[str, list[float]] = {"custom": [], "fused": []}

    def one_round() -> None:  # fused then custom, so each ratio compares neighbours in time
        for name, fn in (("fused", pair.fused), ("custom", pair.custom)):
            t0 = time.perf_counter()
            _run(fn, x, pair.params, train)
            times[name].append(time.perf_counter() - t0)

    one_round()  # warm-up (allocator, thread pool)
    times = {"custom": [], "fused": []}
    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    ratio = statistics.median(c / f for c, f in zip(times["custom"], times["fused"], strict=True))
    custom_s, fused_s = statistics.median(times["custom"]), statistics.median(times["fused"])
    benchmark.extra_info.update(ratio=ratio, custom_median_s=custom_s, fused_median_s=fused_s,
                                frames=FRAMES, threads=THREADS, load=_load())
    mark = ""
    if train and batch == 32:
        mark = "  ok" if ratio <= TARGET else f"  OVER TARGET {TARGET}"
    line = (f"{cell:24s} batch {batch:2d} {mode:7s} ratio {ratio:5.2f}  "
            f"(custom {custom_s * 1e3:8.1f} ms, fused {fused_s * 1e3:8.1f} ms; {_load()}){mark}")
    _SUMMARY.append(line)
    print("\n" + line)


@pytest.mark.parametrize("cell", list(CELLS))
def test_cell_reference(benchmark, cell: str) -> None:
    """The reference loop's training step at batch 32, against the fast path (speed-up)."""
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    pair = CELLS[cell](32)
    x = torch.randn(32, FRAMES, pair.input_size)
    times: dict[str, list[float]] = {"custom": [], "reference": []}

    def one_round() -> None:
        for name, fn in (("reference", pair.reference), ("custom", pair.custom)):
            t0 = time.perf_counter()
            _run(fn, x, pair.params, True)
            times[name].append(time.perf_counter() - t0)

    benchmark.pedantic(one_round, rounds=3, iterations=1)
    speedup = statistics.median(r / c for r, c in zip(times["reference"], times["custom"],
                                                      strict=True))
    benchmark.extra_info.update(speedup_over_reference=speedup, load=_load())
    line = f"{cell:24s} batch 32 train   fast path {speedup:5.1f}x faster than the reference loop"
    _SUMMARY.append(line)
    print("\n" + line)


#: The paper models, and the hyperparameter that switches their recurrence (None: no
#: custom recurrent cell, timed once with its defaults).
PAPER_MODELS: dict[str, str | None] = {
    "ar_gru": "gru_implementation",
    "a_lstm": "rnn_implementation",
    "rlc": "rnn_implementation",
    "dense_lstm": None,
    "drn": None,
}
_EPOCH_CASES = [(m, impl) for m, key in PAPER_MODELS.items()
                for impl in (("auto", "reference") if key else ("auto",))]


@pytest.fixture(scope="module")
def _bench_folders(tmp_path_factory):
    """SERBENCH_DATA / CACHE / RUNS shared by the epoch benchmarks (corpus and features are
    generated once)."""
    root = tmp_path_factory.mktemp("serbench-bench")
    saved = {k: os.environ.get(k) for k in ("SERBENCH_DATA", "SERBENCH_CACHE", "SERBENCH_RUNS")}
    for key in saved:
        os.environ[key] = str(root / key.lower())
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.mark.parametrize(("model", "implementation"), _EPOCH_CASES)
def test_paper_model_epoch(benchmark, _bench_folders, monkeypatch, model: str,
                           implementation: str) -> None:
    """One training epoch of a paper model on one fold of the synthetic corpus, and the
    share of padded frames in the trainer's (length-bucketed) training batches."""
    import serbench.run.pipeline as pipeline
    import serbench.training.fold as fold_module
    from serbench.data.buckets import make_batches, padded_share
    from serbench.plugins import get_registry
    from serbench.run.config import RunConfig
    from serbench.run.resolve import resolve_run

    torch.set_num_threads(THREADS)
    registry = get_registry()
    key = PAPER_MODELS[model]
    overrides = {key: implementation} if key else {}
    config = RunConfig(model=model, corpus="synthetic", max_epochs=1, overrides=overrides,
                       force=True)
    first_fold = resolve_run(config, registry).folds[0].name
    config = RunConfig(model=model, corpus="synthetic", max_epochs=1, overrides=overrides,
                       folds=[first_fold], force=True)
    seen: dict[str, float] = {}
    original = fold_module.run_fold  # the pipeline imports it at call time

    def run_fold(spec, hparams, fold, manifest, features, classes, **kwargs):
        outcome = original(spec, hparams, fold, manifest, features, classes, **kwargs)
        seen["padded_share"] = float(outcome.padded_share or 0.0)
        lengths = [features.length(u) for u in fold.train if u in features]
        seen["padded_share_unbucketed"] = padded_share(
            make_batches(lengths, int(hparams.get("batch_size", 32)), bucket=False), lengths)
        seen["epoch_seconds"] = float(outcome.timing.get("train_seconds_per_epoch") or 0.0)
        return outcome

    monkeypatch.setattr(fold_module, "run_fold", run_fold)
    pipeline.run_experiment(config, registry=registry, progress=False)  # warm: features cached
    benchmark.pedantic(lambda: pipeline.run_experiment(config, registry=registry, progress=False),
                       rounds=1, iterations=1)
    benchmark.extra_info.update(seen, load=_load())
    line = (f"epoch {model:10s} rnn={implementation:9s} {seen['epoch_seconds']:7.2f} s/epoch, "
            f"padded frames {seen['padded_share']:.1%} (unbucketed "
            f"{seen['padded_share_unbucketed']:.1%}); {_load()}")
    _SUMMARY.append(line)
    print("\n" + line)
