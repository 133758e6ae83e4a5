"""Timing measured the same way for every model (DESIGN.md, "Runs, results").

* training seconds per epoch: a :class:`Stopwatch` around each epoch;
* inference latency per utterance: test utterances one at a time (batch size 1);
* throughput: test utterances in batches, utterances per second;
* parameter count, peak memory and the device's name.

On CUDA the clock is CUDA events recorded after ``torch.cuda.synchronize()``
(``clock="cuda_events"``) and peak memory is ``torch.cuda.max_memory_allocated``; on a
CPU the clock is ``time.perf_counter`` (``"cpu_monotonic"``) and peak memory is the
process's peak resident set size (``resource.getrusage``). Inference is timed only
after the test predictions were made, on the same utterances, so timing never changes
a prediction.
"""

from __future__ import annotations

import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

#: Utterances timed one at a time; enough for a stable median, bounded for big test sets.
MAX_LATENCY_UTTERANCES = 200


def clock_name(device: torch.device) -> str:
    """``"cuda_events"`` on a CUDA device, ``"cpu_monotonic"`` otherwise."""
    return "cuda_events" if device.type == "cuda" else "cpu_monotonic"


class Stopwatch:
    """Elapsed seconds on ``device``'s clock: CUDA events after synchronising, else perf_counter."""

    def __init__(self, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"

    def __enter__(self) -> Stopwatch:
        self.seconds = 0.0
        if self.cuda:
            torch.cuda.synchronize(self.device)
            self._start = torch.cuda.Event(enable_timing=True)
            self._end = torch.cuda.Event(enable_timing=True)
            self._start.record()
        else:
            self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.cuda:
            self._end.record()
            torch.cuda.synchronize(self.device)
            self.seconds = self._start.elapsed_time(self._end) / 1000.0
        else:
            self.seconds = time.perf_counter() - self._t0


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def reset_peak_memory(device: torch.device) -> None:
    """Start a fresh CUDA peak (a process's peak RSS cannot be reset)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> tuple[float, str]:
    """(megabytes, kind): ``cuda_max_allocated`` on CUDA, else ``process_rss``."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda_max_allocated"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    return (rss / 2**20 if sys.platform == "darwin" else rss / 2**10), "process_rss"


def count_parameters(model: Any) -> int:
    """Trainable parameters of a torch module; for a fitted scikit-learn estimator, the
    sizes of its fitted array attributes (support vectors, coefficients, ...)."""
    if isinstance(model, torch.nn.Module):
        return int(sum(p.numel() for p in model.parameters()))
    import numpy as np

    steps = [s for _, s in getattr(model, "steps", [])] or [model]
    total = 0
    for step in steps:
        for name, value in vars(step).items():
            if name.endswith("_") and not name.startswith("_") and isinstance(value, np.ndarray):
                if value.dtype.kind in "fc":
                    total += int(value.size)
    return total


def measure_inference(
    predict: Callable[[Sequence[int]], Any],
    n_items: int,
    *,
    batch_size: int,
    device: torch.device,
    max_latency_items: int = MAX_LATENCY_UTTERANCES,
) -> dict[str, float]:
    """Latency per utterance at batch size 1 and batched throughput.

    Args:
        predict: runs the model on the given test rows (indices) and returns anything;
            called under ``torch.no_grad()`` by the caller's closure.
        n_items: test utterances available.
        batch_size: batch size for the throughput pass.
        device: where the model runs (chooses the clock).
        max_latency_items: utterances timed one at a time (the first ones).
    Returns:
        ``inference_latency_ms`` (mean per utterance, batch size 1) and
        ``throughput_utt_per_s`` (all test utterances, batched).
    """
    if n_items == 0:
        return {"inference_latency_ms": float("nan"), "throughput_utt_per_s": float("nan")}
    predict([0])  # warm-up: lazy initialisation, allocator, caches
    k = min(n_items, max_latency_items)
    with Stopwatch(device) as single:
        for i in range(k):
            predict([i])
    rows = list(range(n_items))
    with Stopwatch(device) as batched:
        for start in range(0, n_items, max(1, batch_size)):
            predict(rows[start : start + batch_size])
    return {
        "inference_latency_ms": 1000.0 * single.seconds / k,
        "throughput_utt_per_s": n_items / batched.seconds if batched.seconds > 0 else float("inf"),
    }
