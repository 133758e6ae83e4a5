"""Timing is measured identically for every model; --device resolution."""

import time

import pytest
import torch

from serbench.errors import ConfigError
from serbench.training.device import resolve_device
from serbench.training.timing import (
    Stopwatch,
    clock_name,
    count_parameters,
    device_name,
    measure_inference,
    peak_memory,
)

CPU = torch.device("cpu")


def test_stopwatch_uses_a_monotonic_clock_on_cpu():
    with Stopwatch(CPU) as watch:
        time.sleep(0.02)
    assert 0.015 < watch.seconds < 1.0
    assert clock_name(CPU) == "cpu_monotonic"
    assert clock_name(torch.device("cuda")) == "cuda_events"


def test_measure_inference_latency_is_per_utterance_and_throughput_batched():
    calls = []

    def predict(rows):
        calls.append(len(rows))
        time.sleep(0.002)

    out = measure_inference(predict, 10, batch_size=5, device=CPU)
    assert calls == [1] + [1] * 10 + [5, 5]  # warm-up, batch size 1 each, then batched
    assert out["inference_latency_ms"] >= 2.0
    assert 0 < out["throughput_utt_per_s"] <= 10 / 0.004
    capped = []
    measure_inference(lambda rows: capped.append(len(rows)), 50, batch_size=50, device=CPU,
                      max_latency_items=3)
    assert capped == [1, 1, 1, 1, 50]


def test_parameter_count_peak_memory_and_device_name():
    assert count_parameters(torch.nn.Linear(3, 2)) == 8
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1])
    assert count_parameters(clf) == 3  # coef_ (1, 2) + intercept_ (1,)
    mb, kind = peak_memory(CPU)
    assert kind == "process_rss" and 10 < mb < 1e6
    assert isinstance(device_name(CPU), str) and device_name(CPU)


def test_resolve_device():
    assert resolve_device("cpu") == CPU
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="choose one of"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="--device cpu"):
            resolve_device("cuda")
        assert resolve_device("auto") == CPU


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_events_clock_and_memory():
    dev = torch.device("cuda")
    with Stopwatch(dev) as watch:
        torch.randn(512, 512, device=dev) @ torch.randn(512, 512, device=dev)
    assert watch.seconds > 0
    mb, kind = peak_memory(dev)
    assert kind == "cuda_max_allocated" and mb > 0
