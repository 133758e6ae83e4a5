"""On CUDA: the Stopwatch's CUDA-event clock against a synchronised wall clock, and the
device-side checks of the precision flag."""

from __future__ import annotations

from _gpu import require_cuda

require_cuda()

import time  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from serbench.training.precision import check_precision  # noqa: E402
from serbench.training.timing import Stopwatch, device_name, peak_memory  # noqa: E402

pytestmark = pytest.mark.gpu
DEV = torch.device("cuda")


def _work(n: int) -> None:
    a = torch.randn(2048, 2048, device=DEV)
    for _ in range(n):
        a = torch.tanh(a @ a * 1e-3)


@pytest.mark.parametrize("repeats", [20, 200])
def test_cuda_events_agree_with_a_synchronised_wall_clock(repeats) -> None:
    """Tolerance: the wall clock brackets the events (perf_counter before the Stopwatch's
    synchronize and start event, after its end event's synchronize), so it may only exceed
    them, by the host's launch latency of the first kernel and the return from the final
    synchronize: tens of microseconds, bounded here by 2 ms plus 5 %. Events must never
    exceed the bracketing wall time by more than their 0.5 us resolution."""
    _work(3)  # warm-up: cuBLAS handles, allocator
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    with Stopwatch(DEV) as watch:
        _work(repeats)
    wall = time.perf_counter() - t0
    assert watch.seconds > 0
    assert watch.seconds <= wall + 5e-7
    assert wall - watch.seconds <= 2e-3 + 0.05 * wall, (watch.seconds, wall)


def test_peak_memory_and_name_on_cuda() -> None:
    torch.cuda.reset_peak_memory_stats(DEV)
    block = torch.empty(256 * 2**20, dtype=torch.uint8, device=DEV)  # 256 MiB
    mb, kind = peak_memory(DEV)
    del block
    assert kind == "cuda_max_allocated" and 256 <= mb < 256 + 64
    assert device_name(DEV) == torch.cuda.get_device_name(DEV)


def test_bf16_is_accepted_where_supported() -> None:
    if torch.cuda.is_bf16_supported():
        check_precision("bf16", DEV)
    check_precision("fp16", DEV)
