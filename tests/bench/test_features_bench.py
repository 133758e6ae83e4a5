"""Feature-cache speed, as ratios measured in one run (``tox -e bench``; skipped by default).

1. Extraction throughput of the cache (2 worker processes, reading, resampling, checking
   and storing) relative to calling openSMILE directly on the same files in one process.
   Target: >= 1.8x.
2. The time to load cached features of 5,000 utterances (``load_features`` on a warm
   cache plus reading every utterance's array) relative to extracting them.
   Target: < 2 %.

Sizes: ``SERBENCH_BENCH_FILES`` (default 120 files of 2 s) and ``SERBENCH_BENCH_UTTS``
(default 5000 utterances of 0.5 s, cut as segments from 50 s files).
"""

from __future__ import annotations

import os
import time
import uuid

import numpy as np
import polars as pl
import pytest
import soundfile
from _feature_wavs import tone

from serbench.features.cache import load_features

SR = 16000
N_FILES = int(os.environ.get("SERBENCH_BENCH_FILES", "120"))
N_UTTS = int(os.environ.get("SERBENCH_BENCH_UTTS", "5000"))


def _files(folder, n, seconds):
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        path = folder / f"f{i}.wav"
        soundfile.write(path, tone(110 + i % 150, seconds, SR, seed=i), SR)
        rows.append({"utt_id": f"f{i}", "path": str(path), "speaker": f"s{i % 4}", "label": "a"})
    return pl.DataFrame(rows)


@pytest.mark.parametrize(("feature", "opensmile_set", "level"),
                         [("egemaps", "eGeMAPSv02", "func"), ("compare_lld", "ComParE_2016", "lld")])
def test_extraction_throughput_vs_direct_opensmile(benchmark, tmp_path, serbench_env, feature,
                                                   opensmile_set, level):
    import opensmile

    manifest = _files(tmp_path / "wavs", N_FILES, 2.0)
    paths = manifest["path"].to_list()
    smile = opensmile.Smile(opensmile.FeatureSet[opensmile_set], level)
    smile.process_file(paths[0])  # warm-up, as the workers' first file is
    start = time.perf_counter()
    for path in paths:
        smile.process_file(path)
    direct = time.perf_counter() - start

    timings = []

    def extract():
        t0 = time.perf_counter()
        table = load_features(manifest, feature, fingerprint=uuid.uuid4().hex, workers=2, progress=False)
        timings.append(time.perf_counter() - t0)
        assert len(table) == N_FILES and table.info()["extracted_now"] == N_FILES

    benchmark.pedantic(extract, rounds=3, iterations=1)
    cached = float(np.median(timings))
    ratio = direct / cached

    # CPU seconds of the cache's own per-file path (1 worker, in process) against openSMILE
    # alone: how much the reading, checks and storage cost, independent of free cores.
    cpu0 = time.process_time()
    for path in paths:
        smile.process_file(path)
    direct_cpu = time.process_time() - cpu0
    cpu0 = time.process_time()
    load_features(manifest, feature, fingerprint=uuid.uuid4().hex, workers=1, progress=False)
    cache_cpu = time.process_time() - cpu0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    busy = f" (machine load {load:.1f} on {os.cpu_count()} cores: ratio not meaningful)" \
        if load > (os.cpu_count() or 1) else ""
    print(f"\n[bench] {feature}: {N_FILES} files, direct openSMILE 1 process {direct:.2f} s, "
          f"cache with 2 workers {cached:.2f} s -> throughput ratio {ratio:.2f}x (target >= 1.8x){busy}; "
          f"CPU per file, openSMILE alone / cache path in 1 process: {direct_cpu / cache_cpu:.2f}")
    benchmark.extra_info.update(feature=feature, throughput_ratio=ratio, direct_s=direct, cache_s=cached,
                                cpu_efficiency=direct_cpu / cache_cpu, load=load)


def test_load_5000_cached_vs_extract(benchmark, tmp_path, serbench_env):
    per_file = 100  # 0.5 s segments of 50 s files
    n_files = max(1, int(np.ceil(N_UTTS / per_file)))
    files = _files(tmp_path / "long", n_files, per_file * 0.5)
    rows = []
    for f in files.iter_rows(named=True):
        for k in range(per_file):
            if len(rows) < N_UTTS:
                rows.append({"utt_id": f"{f['utt_id']}_{k}", "path": f["path"], "speaker": f["speaker"],
                             "label": "a", "start": 0.5 * k, "end": 0.5 * (k + 1)})
    manifest = pl.DataFrame(rows)
    workers = os.cpu_count() or 1
    t0 = time.perf_counter()
    table = load_features(manifest, "compare_lld", fingerprint="load", workers=workers, progress=False)
    extract = time.perf_counter() - t0
    assert len(table) == N_UTTS

    def load():
        loaded = load_features(manifest, "compare_lld", fingerprint="load", progress=False)
        assert loaded.info()["extracted_now"] == 0
        return sum(float(loaded[u][0, 0]) for u in loaded)  # touch every utterance

    benchmark.pedantic(load, rounds=5, iterations=1)
    loading = benchmark.stats.stats.median
    ratio = loading / extract
    print(f"\n[bench] compare_lld: {N_UTTS} utterances, extraction ({workers} workers) {extract:.2f} s, "
          f"loading from cache {loading:.3f} s -> load/extract {100 * ratio:.2f}% (target < 2%)")
    benchmark.extra_info.update(load_ratio=ratio, extract_s=extract, load_s=loading)
