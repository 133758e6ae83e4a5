"""On CUDA: each custom cell's training step (forward + backward) against PyTorch's cuDNN
cell of the same size, at the papers' sizes, batch 32 and 64 (issue 18's target: at most
2x). Every ratio is written, met or not, to ``SERBENCH_GPU_RATIOS`` (default
``.benchmarks/gpu_cell_ratios.json``); the test fails only if a cell cannot be timed.

Sizes: IAAN's AR-GRU 45 -> 128 bidirectional (AReLU), A-LSTM 256 -> 128 bidirectional
(T = {5, 3, 1}), the GCA-LSTM gated LSTM 256 -> 256; ``SERBENCH_GPU_FRAMES`` frames
(500, the long inputs of issue 18). Timing: CUDA events (the Stopwatch), median of
``SERBENCH_GPU_ROUNDS`` (7) rounds after two warm-up rounds (the compiled steps compile
during warm-up), the two cells alternated within each round.
"""

from __future__ import annotations

from _gpu import require_cuda

require_cuda()

import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from serbench.nn.fast_rnn import step_kernels  # noqa: E402
from serbench.training.timing import Stopwatch  # noqa: E402

pytestmark = pytest.mark.gpu
DEV = torch.device("cuda")
FRAMES = int(os.environ.get("SERBENCH_GPU_FRAMES", "500"))
ROUNDS = int(os.environ.get("SERBENCH_GPU_ROUNDS", "7"))
TARGET = 2.0
RESULTS: dict[str, dict] = {}

Step = Callable[[torch.Tensor], torch.Tensor]


def _ar_gru(batch: int) -> tuple[Step, Step, list[torch.Tensor], int]:
    from serbench_ar_gru.gru import GRU

    custom = GRU(45, 128, activation="arelu", bidirectional=True,
                 activation_hparams={"alpha": 0.01, "beta": 1.0}, implementation="fast").to(DEV)
    fused = nn.GRU(45, 128, batch_first=True, bidirectional=True).to(DEV)
    lengths = torch.full((batch,), FRAMES, device=DEV)
    return (lambda x: custom(x, lengths)[0], lambda x: fused(x)[0],
            [*custom.parameters(), *fused.parameters()], 45)


def _a_lstm(batch: int) -> tuple[Step, Step, list[torch.Tensor], int]:
    from serbench_a_lstm.cell import BiALSTM

    custom = BiALSTM(256, 128, time_steps=(5, 3, 1), implementation="fast").to(DEV)
    fused = nn.LSTM(256, 128, batch_first=True, bidirectional=True).to(DEV)
    lengths = torch.full((batch,), FRAMES, device=DEV)
    return (lambda x: custom(x, lengths), lambda x: fused(x)[0],
            [*custom.parameters(), *fused.parameters()], 256)


def _gca(batch: int) -> tuple[Step, Step, list[torch.Tensor], int]:
    from serbench_rlc.gca import GCALSTM

    from serbench.nn.fast_rnn.gated_lstm import gated_lstm_sequence

    gca = GCALSTM(256, 256, iterations=1).to(DEV)
    fused = nn.LSTM(256, 256, batch_first=True).to(DEV)
    lengths = torch.full((batch,), FRAMES, device=DEV)
    r = torch.rand(batch, FRAMES, device=DEV)
    return (lambda x: gated_lstm_sequence(x, r, lengths, gca.weight_ih, gca.weight_hh,
                                          gca.bias)[0],
            lambda x: fused(x)[0], [*gca.parameters(), *fused.parameters()], 256)


CELLS = {"ar_gru_iaan_45x128_bi": _ar_gru, "a_lstm_256x128_bi": _a_lstm,
         "gca_gated_lstm_256x256": _gca}


def _step(fn: Step, x: torch.Tensor, params: list[torch.Tensor]) -> None:
    for p in params:
        p.grad = None
    fn(x).square().mean().backward()


@pytest.fixture(scope="module", autouse=True)
def _write_ratios():
    yield
    path = Path(os.environ.get("SERBENCH_GPU_RATIOS", ".benchmarks/gpu_cell_ratios.json"))
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"device_name": torch.cuda.get_device_name(DEV), "torch": torch.__version__,
           "frames": FRAMES, "rounds": ROUNDS, "target": TARGET,
           "compile_mode": step_kernels.mode(), "cells": RESULTS}
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"\ncustom / cuDNN training-step time ({FRAMES} frames), written to {path}:")
    for key, row in sorted(RESULTS.items()):
        flag = "ok" if row["ratio"] <= TARGET else f"over {TARGET}x"
        print(f"  {key:34s} ratio {row['ratio']:6.2f}  (custom {row['custom_ms']:8.2f} ms, "
              f"cuDNN {row['cudnn_ms']:8.2f} ms) {flag}")


@pytest.mark.parametrize("batch", [32, 64])
@pytest.mark.parametrize("cell", list(CELLS))
def test_training_step_ratio_to_cudnn(cell, batch) -> None:
    torch.manual_seed(0)
    custom, fused, params, dim = CELLS[cell](batch)
    x = torch.randn(batch, FRAMES, dim, device=DEV)
    times: dict[str, list[float]] = {"custom": [], "cudnn": []}
    for round_ in range(ROUNDS + 2):
        for name, fn in (("cudnn", fused), ("custom", custom)):
            with Stopwatch(DEV) as watch:
                _step(fn, x, params)
            if round_ >= 2:
                times[name].append(watch.seconds)
    ratio = statistics.median(c / f for c, f in zip(times["custom"], times["cudnn"], strict=True))
    RESULTS[f"{cell}/batch{batch}"] = {
        "ratio": ratio, "custom_ms": 1e3 * statistics.median(times["custom"]),
        "cudnn_ms": 1e3 * statistics.median(times["cudnn"]), "batch": batch,
        "met_target": ratio <= TARGET,
    }
    assert ratio > 0 and all(t > 0 for t in times["custom"] + times["cudnn"])
