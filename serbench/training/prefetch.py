"""The trainer's data path: batches prepared while the device computes.

:class:`Prefetcher` collates the next batches in a background thread (collation is numpy
padding and ``torch.from_numpy``, which release the GIL for the copies) while the caller
runs the model on the current one. On CUDA the collated tensors are copied into pinned
(page-locked) host memory in that thread and sent with ``non_blocking=True``, so the
host-to-device copy overlaps the previous step's kernels. Batches come out in the order
of ``batches``, so prefetching never changes a result.

It also measures how long the consumer waited for a batch (``wait_seconds``): the share
of an epoch spent waiting for data, recorded in the run's timing as ``data_wait_share``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

import torch

from serbench.data.batch import Batch

#: Batches collated ahead on CUDA: two keep the device fed without holding much memory.
CUDA_PREFETCH = 2


def default_depth(device: torch.device) -> int:
    """Batches prepared ahead: :data:`CUDA_PREFETCH` on CUDA; 0 on a CPU, where a collating
    thread would compete with the model for the same cores."""
    return CUDA_PREFETCH if device.type == "cuda" else 0


def pin(batch: Batch) -> Batch:
    """``batch`` with every tensor in pinned host memory (CUDA's asynchronous copies need it)."""
    return replace(
        batch,
        x=batch.x.pin_memory(),
        lengths=batch.lengths.pin_memory(),
        mask=batch.mask.pin_memory(),
        extras={k: v.pin_memory() for k, v in batch.extras.items()},
        targets={k: v.pin_memory() for k, v in batch.targets.items()},
    )


def to_device(batch: Batch, device: torch.device) -> Batch:
    """``batch`` on ``device``; copies from pinned memory to CUDA do not block the host."""
    non_blocking = device.type == "cuda" and batch.x.is_pinned()
    return replace(
        batch,
        x=batch.x.to(device, non_blocking=non_blocking),
        lengths=batch.lengths.to(device, non_blocking=non_blocking),
        mask=batch.mask.to(device, non_blocking=non_blocking),
        extras={k: v.to(device, non_blocking=non_blocking) for k, v in batch.extras.items()},
        targets={k: v.to(device, non_blocking=non_blocking) for k, v in batch.targets.items()},
        utt_ids=list(batch.utt_ids),
    )


_DONE = object()


class Prefetcher:
    """Iterate ``(rows, host_batch, device_batch)`` over ``batches``, collating ahead.

    Args:
        batches: the row indices of each batch, in order.
        collate: rows -> a :class:`Batch` on the host.
        device: where the batches go.
        depth: batches collated ahead in a background thread (0: collate in the
            caller's thread, no thread at all); None: :func:`default_depth`.

    ``wait_seconds`` accumulates the time the consumer waited for the next batch (the
    whole collation when ``depth`` is 0).
    """

    def __init__(
        self,
        batches: Sequence[Sequence[int]],
        collate: Callable[[Sequence[int]], Batch],
        device: torch.device,
        depth: int | None = None,
    ):
        self.batches = list(batches)
        self.collate = collate
        self.device = torch.device(device)
        self.depth = default_depth(self.device) if depth is None else int(depth)
        self.pin = self.device.type == "cuda"
        self.wait_seconds = 0.0

    def _prepare(self, rows: Sequence[int]) -> Batch:
        batch = self.collate(rows)
        return pin(batch) if self.pin else batch

    def __iter__(self) -> Iterator[tuple[Sequence[int], Batch, Batch]]:
        if self.depth <= 0:
            for rows in self.batches:
                t0 = time.perf_counter()
                host = self._prepare(rows)
                self.wait_seconds += time.perf_counter() - t0
                yield rows, host, to_device(host, self.device)
            return
        ready: queue.Queue[object] = queue.Queue(maxsize=self.depth)
        stop = threading.Event()

        def work() -> None:
            try:
                for rows in self.batches:
                    if stop.is_set():
                        return
                    ready.put((rows, self._prepare(rows)))
            except BaseException as exc:  # handed to the consumer, raised there
                ready.put(exc)
                return
            ready.put(_DONE)

        thread = threading.Thread(target=work, name="serbench-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                t0 = time.perf_counter()
                item = ready.get()
                self.wait_seconds += time.perf_counter() - t0
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                rows, host = item  # type: ignore[misc]
                yield rows, host, to_device(host, self.device)
        finally:
            stop.set()
            while thread.is_alive():  # unblock a producer waiting on a full queue
                try:
                    ready.get_nowait()
                except queue.Empty:
                    thread.join(timeout=0.05)
