"""Extraction that an interrupt cannot damage: per-file retry, SIGINT-safe workers.

openSMILE calls back into Python through ctypes; a ``KeyboardInterrupt`` raised inside
that callback is swallowed and the file comes back as NaN (or one frame short). So:

- worker processes ignore SIGINT (and die with their parent, see :func:`_init_worker`);
  on Ctrl-C the parent terminates them at once and keeps only the chunks already renamed
  into place;
- in the main process (``workers=1``) a Ctrl-C that arrives while a file is being
  extracted is held until that file is done (:func:`deferred_sigint`), then raised;
- a file whose extraction fails or yields no usable values is retried once with a freshly
  built extractor; only a failure that repeats is reported as ``excluded`` (with
  ``"retried": true`` in its report entry).
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from serbench.errors import SerbenchError
from serbench.features import quality
from serbench.features.cache_store import write_chunk
from serbench.features.trimming import extractor_params, trim_silence, trim_threshold
from serbench.lazy import resolve

Row = tuple[str, str, float | None, float | None]
_EXTRACTORS: dict[str, Any] = {}
_PR_SET_PDEATHSIG = 1


def build_extractor(ref: Any, params: Mapping[str, Any], *, fresh: bool = False) -> Any:
    """The extractor for (ref, params), built once per process (``fresh``: build anew);
    ``trim_silence`` is the cache's parameter, not the extractor's."""
    params = extractor_params(params)
    key = json.dumps([str(ref), params], sort_keys=True, default=str)
    if fresh or key not in _EXTRACTORS:
        _EXTRACTORS[key] = resolve(ref)(params)
    return _EXTRACTORS[key]


@contextmanager
def deferred_sigint() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block and raise it once the block is done.

    A no-op outside the main thread or where SIGINT is already ignored (workers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _extract_one(extractor: Any, row: Row, trim_db: float | None
                 ) -> tuple[np.ndarray | None, list[dict]]:
    """One file: read, trim, check, extract, repair; ``None`` when it is excluded."""
    from serbench.audio import read_audio

    utt_id, path, start, end = row
    try:
        signal_, rate = read_audio(path, extractor.sample_rate, start=start, end=end)
    except SerbenchError as exc:
        return None, [quality.entry(utt_id, path, f"unreadable audio ({exc})", "excluded")]
    if trim_db is not None:
        signal_ = trim_silence(signal_, rate, trim_db)
    signal_, notes = quality.check_signal(
        signal_, rate, getattr(extractor, "min_seconds", 0.0), utt_id, path)
    if signal_ is None:
        return None, notes
    try:
        with deferred_sigint():
            values = extractor(signal_, rate)
    except Exception as exc:  # a descriptor failing on one file must not stop the corpus
        return None, [*notes, quality.entry(utt_id, path, f"extractor failed ({exc})", "excluded")]
    values, more = quality.repair_features(values, extractor.level, extractor.names, utt_id, path)
    return (None if values is None else np.atleast_2d(values)), [*notes, *more]


def extract_rows(extractor: Any, rows: Sequence[Row], trim_db: float | None = None,
                 rebuild: Callable[[], Any] | None = None
                 ) -> tuple[list[str], list[np.ndarray], list[dict]]:
    """Extract each row (see :mod:`serbench.features.quality` for the bad-input rule);
    returns (ids, arrays (T, D) or (1, D), report).

    An excluded file is tried once more with ``rebuild()`` (a fresh extractor; default:
    the same one); only a repeated failure is reported, marked ``"retried": true``.
    """
    ids: list[str] = []
    arrays: list[np.ndarray] = []
    report: list[dict] = []
    for row in rows:
        values, notes = _extract_one(extractor, row, trim_db)
        if values is None:
            extractor = rebuild() if rebuild is not None else extractor
            values, notes = _extract_one(extractor, row, trim_db)
            if values is None:
                notes = [{**n, "issue": f"{n['issue']}, repeated on a clean retry",
                          "retried": True} if n["action"] == "excluded" else n for n in notes]
        report.extend(notes)
        if values is not None:
            ids.append(row[0])
            arrays.append(values)
    return ids, arrays, report


def chunk_job(ref: Any, params: Mapping[str, Any], rows: Sequence[Row], chunk_dir: str
              ) -> tuple[int, int]:
    """Extract ``rows`` into one chunk file; returns (rows done, rows excluded)."""
    extractor = build_extractor(ref, params)
    ids, arrays, report = extract_rows(
        extractor, rows, trim_threshold(params),
        rebuild=lambda: build_extractor(ref, params, fresh=True))
    write_chunk(Path(chunk_dir), ids, arrays, len(extractor.names), report)
    return len(rows), len(rows) - len(ids)


def _init_worker(parent: int) -> None:
    """Worker start: ignore Ctrl-C (the parent decides) and die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # Linux: SIGTERM when the parent dies (e.g. SIGKILL), instead of an orphan
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate every worker now (a running chunk is lost, its temporary file removed by
    the next call) and drop queued jobs."""
    # ProcessPoolExecutor has no public terminate before Python 3.14
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=2)
    pool.shutdown(wait=False, cancel_futures=True)


def run_jobs(job: Callable[..., tuple[int, int]], ref: Any, params: Mapping[str, Any],
             rows: list[Row], chunk_dir: Path, workers: int, progress: bool, label: str) -> None:
    """Extract ``rows`` into chunks of ``chunk_dir``, in ``workers`` processes."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    size = max(1, min(64, math.ceil(len(rows) / (workers * 8))))
    jobs = [rows[i : i + size] for i in range(0, len(rows), size)]
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), disable=not progress, transient=False)
    with bar:
        task = bar.add_task(label, total=len(rows))
        if workers <= 1 or len(jobs) == 1:
            for part in jobs:
                job(ref, params, part, str(chunk_dir))
                bar.advance(task, len(part))
            return
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                                   initargs=(os.getpid(),))
        try:
            pending = {pool.submit(job, ref, params, part, str(chunk_dir)) for part in jobs}
            while pending:
                # a short timeout: a Ctrl-C that lands in another thread is only acted on
                # when the main thread wakes up, which an untimed wait may not do for minutes
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in finished:
                    done, _ = fut.result()
                    bar.advance(task, done)
        except BrokenProcessPool as exc:
            _stop_workers(pool)
            raise SerbenchError(
                f"an extraction worker died ({exc}); finished chunks are kept in {chunk_dir}. "
                "Run the same command again, with --workers 1 to see the failing file.") from exc
        except BaseException:
            _stop_workers(pool)  # Ctrl-C or a failing chunk: stop now, keep finished chunks
            raise
        pool.shutdown()
