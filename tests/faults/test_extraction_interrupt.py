"""Fault: Ctrl-C (SIGINT) and SIGKILL during feature extraction.

Nothing finished is lost, nothing interrupted is stored: the next call extracts exactly
what is missing, excludes nothing that is good and yields the uninterrupted features.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from _fault_features import fault_registry, write_constant
from _feature_wavs import write_wavs

from serbench.features import cache as cache_mod
from serbench.features import cache_store
from serbench.features.cache import ExtractionInterrupted, load_features
from serbench.features.extraction_workers import deferred_sigint, run_jobs

NEMO = Path("/work/shared/data/nemo")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _ctrl_c_raises():
    """Python's own SIGINT handler, as in a terminal: a test suite started in the
    background by a non-interactive shell inherits SIGINT ignored, and no Ctrl-C test
    could then raise."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _sleepy_job(ref, params, rows, chunk_dir):
    """A chunk that would take a minute (stands in for a long openSMILE call)."""
    time.sleep(60)
    return len(rows), 0


def test_a_ctrl_c_inside_one_file_is_held_until_that_file_is_done(tmp_path, serbench_env):
    # openSMILE swallows a KeyboardInterrupt raised in its callback and returns NaN:
    # the interrupt must not reach the extractor, only the loop around it
    manifest = write_wavs(tmp_path / "wavs", n=6)
    with pytest.raises(KeyboardInterrupt):
        load_features(manifest, "swallow8", fingerprint="fp", registry=fault_registry(),
                      workers=1, progress=False)
    table = load_features(manifest, "swallow8", fingerprint="fp", registry=fault_registry(),
                          workers=1, progress=False)
    assert table.info()["excluded"] == {} and len(table) == 6
    for utt in table.ids:
        assert np.isfinite(table[utt]).all()


def test_deferred_sigint_raises_after_the_block_and_restores_the_handler():
    before = signal.getsignal(signal.SIGINT)
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_sigint():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            finished.append(True)
    assert finished == [True] and signal.getsignal(signal.SIGINT) is before


def test_a_failure_is_excluded_only_when_it_repeats_on_a_clean_retry(tmp_path, serbench_env):
    manifest = write_wavs(tmp_path / "wavs", n=3)
    extra = [("flaky", write_constant(tmp_path / "flaky.wav", 0.09)),
             ("broken", write_constant(tmp_path / "broken.wav", 0.05))]
    manifest = pl.concat([manifest, pl.DataFrame(
        [{"utt_id": u, "path": str(p), "speaker": "s9", "label": "a"} for u, p in extra])])
    table = load_features(manifest, "flaky8", params={"counter": str(tmp_path / "count")},
                          fingerprint="fp", registry=fault_registry(), workers=1,
                          progress=False)
    assert set(table.info()["excluded"]) == {"broken"}
    assert "descriptor exploded" in table.info()["excluded"]["broken"]
    assert "repeated on a clean retry" in table.info()["excluded"]["broken"]
    assert "flaky" in table.ids
    meta = cache_store.read_meta(Path(table.info()["cache"]))
    [entry] = [r for r in meta["report"] if r["utt_id"] == "broken"]
    assert entry["retried"] is True and entry["action"] == "excluded"


def test_ctrl_c_stops_the_workers_within_two_seconds(tmp_path):
    rows = [(f"u{i}", "x.wav", None, None) for i in range(8)]
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        run_jobs(_sleepy_job, "unused", {}, rows, tmp_path, workers=2, progress=False,
                 label="test")
    assert time.monotonic() - start < 3.0  # 1 s until the signal, then at most ~2 s
    deadline = time.monotonic() + 2
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not multiprocessing.active_children()  # no worker keeps extracting


def test_interrupting_the_chunk_loop_keeps_finished_chunks_and_names_them(
        tmp_path, serbench_env, monkeypatch):
    manifest = write_wavs(tmp_path / "wavs", n=6)
    real, calls = cache_mod._chunk_job, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(cache_mod, "_chunk_job", interrupted)
    with pytest.raises(ExtractionInterrupted, match="2 finished chunk"):
        load_features(manifest, "frames8", fingerprint="fp", registry=fault_registry(),
                      workers=1, progress=False)
    monkeypatch.setattr(cache_mod, "_chunk_job", real)
    table = load_features(manifest, "frames8", fingerprint="fp", registry=fault_registry(),
                          workers=1, progress=False)
    assert table.info()["extracted_now"] == 4 and len(table) == 6


# --- a real `serbench features extract` process, interrupted ---------------------------------

def _nemo_subset(folder: Path, n: int = 36) -> Path:
    """A manifest CSV of ``n`` nEMO files (6 speakers)."""
    files = sorted((NEMO / "samples").glob("*.wav"))[:: max(1, 1294 // n)][:n]
    out = pl.DataFrame([{"utt_id": f.stem, "path": str(f), "speaker": f.stem.split("_")[0],
                         "label": f.stem.split("_")[1]} for f in files])
    path = folder / "nemo_subset.csv"
    out.write_csv(path)
    return path


def _extract_cmd(csv: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "serbench"), "features", "extract", "egemaps",
            "--corpus", "manifest", "--data", str(csv), "--workers", "2"]


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "SERBENCH_CACHE": str(cache), "OMP_NUM_THREADS": "1"}


def _chunks(cache: Path) -> list[Path]:
    return list(cache.glob("features/egemaps-v1/*/chunks/part-*.npz"))


def _interrupt_after_first_chunk(csv: Path, cache: Path, sig: int) -> tuple[int, float, str]:
    """Start the extraction, wait for a finished chunk, send ``sig``; (rc, seconds to stop,
    output)."""
    proc = subprocess.Popen(
        _extract_cmd(csv), env=_env(cache), cwd=ROOT, start_new_session=True,
        # a terminal's Ctrl-C reaches a process whose SIGINT is not ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not _chunks(cache) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.poll() is None, "the extraction finished before it could be interrupted"
    sent = time.monotonic()
    if sig == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group
    else:
        os.kill(proc.pid, sig)  # SIGKILL: the parent only; its workers must follow it
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the session: parent and orphaned workers
        pytest.fail(f"the extraction (or its workers) still ran 60 s after signal {sig}")
    return proc.returncode, time.monotonic() - sent, out


@pytest.mark.slow
@pytest.mark.skipif(not NEMO.is_dir(), reason="needs the nEMO sample at /work/shared/data/nemo")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_an_interrupted_extraction_then_the_same_command_excludes_nothing(tmp_path, sig):
    csv = _nemo_subset(tmp_path)
    cache = tmp_path / "cache"
    rc, seconds, out = _interrupt_after_first_chunk(csv, cache, sig)
    if sig == signal.SIGINT:
        assert rc == 130 and "Run the same command again" in out, out
        assert seconds < 3.0, f"took {seconds:.1f} s to stop"
    else:
        assert rc == -signal.SIGKILL
    kept = len(_chunks(cache))
    assert kept >= 1
    time.sleep(1.0)  # SIGKILL: the workers receive SIGTERM from the kernel (parent death)
    assert not subprocess.run(["pgrep", "-f", str(csv)], capture_output=True).stdout.strip()
    again = subprocess.run(_extract_cmd(csv), env=_env(cache), cwd=ROOT, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "excluded: 0" in again.stdout, again.stdout
    assert not list(cache.rglob("*.tmp*"))
    # the same features as one uninterrupted extraction
    clean = tmp_path / "clean"
    ref = subprocess.run(_extract_cmd(csv), env=_env(clean), cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert ref.returncode == 0, ref.stderr
    a, b = (_read_cache(c) for c in (cache, clean))
    assert set(a) == set(b) and len(a) == 36
    for utt in a:
        np.testing.assert_array_equal(a[utt], b[utt])


def _read_cache(cache: Path) -> dict[str, np.ndarray]:
    [folder] = cache.glob("features/egemaps-v1/*")
    meta = cache_store.read_meta(folder)
    data = np.load(cache_store.data_path(folder, meta))
    offsets = np.load(cache_store.offsets_path(folder, meta))
    return {u: data[offsets[i] : offsets[i + 1]] for i, u in enumerate(meta["ids"])}
