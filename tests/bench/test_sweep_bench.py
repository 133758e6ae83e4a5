"""Throughput of the local executor: N worker processes against one (issue 19).

Run by ``tox -e bench``. One campaign of ``SERBENCH_BENCH_RUNS`` (4) svm runs (one per
seed) on the tiny test corpus runs twice in the same process, into fresh runs folders:
with one worker, then with ``SERBENCH_BENCH_WORKERS`` (default: the cores, at least 2),
each worker with cores/N torch threads. The feature cache is filled by a warm-up run
first, so both sweeps do the same work. The printed ratio is runs per second with N
workers over runs per second with one; the ideal is N, process start-up and a shared
machine's load pull it down. The ratio is in the benchmark JSON's ``extra_info``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from serbench.campaign.executors.local import cores
from serbench.campaign.sweep import sweep
from serbench.testing.corpora import write_tiny_corpus

RUNS = int(os.environ.get("SERBENCH_BENCH_RUNS", "4"))
WORKERS = int(os.environ.get("SERBENCH_BENCH_WORKERS", str(max(2, cores()))))

SUITE = """
[campaign]
name = "bench"
seeds = {seeds}

[[benchmarks]]
corpus = "manifest"
data = "{csv}"
protocol = "loso-speaker"

[[models]]
name = "svm"
"""


def _suite(tmp: Path, csv: Path, seeds: list[int], name: str) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(SUITE.format(seeds=seeds, csv=csv))
    return path


def _seconds(suite: Path, runs: Path, workers: int) -> float:
    start = time.perf_counter()
    result = sweep(suite, runs_dir=runs, leaderboards=runs / "boards", workers=workers,
                   progress=False)
    seconds = time.perf_counter() - start
    assert {o.status for o in result.outcomes} == {"done"}, result.outcomes
    return seconds


@pytest.mark.benchmark(group="sweep")
def test_local_workers_throughput(benchmark, tmp_path, monkeypatch):
    for var in ("DATA", "CACHE"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    csv = write_tiny_corpus(tmp_path / "tiny", speakers=3, per_speaker=8)
    _seconds(_suite(tmp_path, csv, [999], "warm"), tmp_path / "warm", 1)  # fills the cache
    suite = _suite(tmp_path, csv, list(range(RUNS)), "bench")
    one = _seconds(suite, tmp_path / "one", 1)
    many = benchmark.pedantic(_seconds, args=(suite, tmp_path / "many", WORKERS), rounds=1,
                              iterations=1)
    # pedantic returns the function's value: the N-worker campaign's seconds
    ratio = (RUNS / many) / (RUNS / one)
    load = os.getloadavg()[0]
    benchmark.extra_info.update(runs=RUNS, workers=WORKERS, one_worker_s=one,
                                n_workers_s=many, throughput_ratio=ratio, load_average=load)
    print(f"\nsweep throughput: {RUNS} runs, 1 worker {one:.1f} s, {WORKERS} workers "
          f"{many:.1f} s: ratio {ratio:.2f} (ideal {WORKERS}; load average {load:.1f})")
