"""Fault: a damaged, full, read-only or old feature cache.

Damage (a truncated file, a same-size bit flip) is detected by the checksums, named, and
only the damaged utterances are extracted again; a full disk gives a message and leaves
no temporary file; a complete read-only cache is read; a cache written before checksums
still loads, with a one-line notice.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from _fault_features import fault_registry
from _feature_wavs import write_wavs

from serbench.errors import SerbenchError
from serbench.features import cache as cache_mod
from serbench.features import cache_store, checksums
from serbench.features.cache import cache_status, load_features
from serbench.features.cache_store import CacheDiskFull


def _load(manifest, workers=1):
    return load_features(manifest, "frames8", fingerprint="fp", registry=fault_registry(),
                         workers=workers, progress=False)


def _values(table) -> dict[str, np.ndarray]:
    return {u: np.array(table[u]) for u in table.ids}


@pytest.fixture
def manifest(tmp_path, serbench_env):
    return write_wavs(tmp_path / "wavs", n=8, seconds=1.0)


@pytest.fixture
def warm(manifest, monkeypatch):
    """A complete cache written with 256-byte checksum blocks: (folder, meta, values)."""
    monkeypatch.setattr(checksums, "BLOCK_BYTES", 256)
    table = _load(manifest)
    folder = Path(table.info()["cache"])
    return folder, cache_store.read_meta(folder), _values(table)


def _flip(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x10
    path.write_bytes(bytes(raw))


def test_a_same_size_bit_flip_is_named_and_only_its_utterances_are_extracted_again(
        manifest, warm, capsys):
    folder, meta, before = warm
    data = cache_store.data_path(folder, meta)
    size = data.stat().st_size
    _flip(data, size - 10)  # inside the last utterance's rows
    status = cache_status("frames8", fingerprint="fp", registry=fault_registry())
    assert status["verified"] is False and "fails its checksum" in status["problem"]
    assert manifest["utt_id"][-1] in status["damaged"]
    table = _load(manifest)
    err = capsys.readouterr().err
    assert str(data) in err and "fails its checksum" in err
    assert 1 <= table.info()["extracted_now"] < len(manifest)
    after = _values(table)
    for utt in before:
        np.testing.assert_array_equal(after[utt], before[utt])


def test_a_damaged_array_header_is_named_and_everything_extracted_again(manifest, warm,
                                                                        capsys):
    folder, meta, before = warm
    data = cache_store.data_path(folder, meta)
    _flip(data, 30)  # inside the .npy header's shape text
    table = _load(manifest)
    assert f"{data} has a damaged header" in capsys.readouterr().err
    assert table.info()["extracted_now"] == len(manifest)
    for utt, values in _values(table).items():
        np.testing.assert_array_equal(values, before[utt])


def test_a_truncated_data_file_is_named_and_extracted_again(manifest, warm, capsys):
    folder, meta, before = warm
    data = cache_store.data_path(folder, meta)
    with open(data, "r+b") as fh:
        fh.truncate(data.stat().st_size // 2)
    table = _load(manifest)
    assert "truncated" in capsys.readouterr().err
    assert table.info()["extracted_now"] == len(manifest)
    for utt, values in _values(table).items():
        np.testing.assert_array_equal(values, before[utt])


def test_a_damaged_meta_json_is_named_and_the_cache_rebuilt(manifest, warm, capsys):
    folder, _, before = warm
    (folder / "meta.json").write_text('{"ids": [')
    table = _load(manifest)
    assert f"{folder / 'meta.json'} is damaged" in capsys.readouterr().err
    assert _values(table).keys() == before.keys()


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_pending_chunk_is_named_and_extracted_again(manifest, monkeypatch, capsys,
                                                              damage):
    real, calls = cache_mod._chunk_job, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(cache_mod, "_chunk_job", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _load(manifest)
    monkeypatch.setattr(cache_mod, "_chunk_job", real)
    chunk = sorted(Path(os.environ["SERBENCH_CACHE"]).rglob("part-*.npz"))[0]
    if damage == "flip":
        _flip(chunk, chunk.stat().st_size // 2)
    else:
        with open(chunk, "r+b") as fh:
            fh.truncate(chunk.stat().st_size - 7)
    table = _load(manifest)
    assert f"the chunk {chunk} is damaged" in capsys.readouterr().err
    assert table.info()["extracted_now"] == len(manifest) - 1  # 1 chunk of 2 was good
    assert len(table) == len(manifest) and table.info()["excluded"] == {}


def test_a_cache_written_before_checksums_loads_with_a_notice(manifest, warm, capsys):
    folder, meta, before = warm
    old = {k: v for k, v in meta.items() if k not in ("checksums", "format")}
    (folder / "meta.json").write_text(json.dumps(old))
    table = _load(manifest)
    assert "written before checksums: adding them" in capsys.readouterr().err
    assert table.info()["extracted_now"] == 0
    assert cache_store.read_meta(folder)["checksums"]
    for utt, values in _values(table).items():
        np.testing.assert_array_equal(values, before[utt])


# --- a full disk -------------------------------------------------------------------------

def _no_temporaries(root: Path) -> None:
    assert not [p for p in root.rglob("*") if ".tmp" in p.name]


def test_too_little_free_space_is_refused_before_extracting(manifest, monkeypatch):
    free = shutil.disk_usage("/")._replace(free=1000)
    monkeypatch.setattr(cache_store.shutil, "disk_usage", lambda path: free)
    with pytest.raises(CacheDiskFull, match="not enough disk space.*SERBENCH_CACHE"):
        _load(manifest)
    assert not list(Path(os.environ["SERBENCH_CACHE"]).rglob("part-*.npz"))


@pytest.mark.parametrize("where", ["chunk", "merge"])
def test_enospc_while_writing_names_the_file_and_leaves_no_temporary(manifest, monkeypatch,
                                                                     where):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "chunk":
        monkeypatch.setattr(cache_store.np, "savez", full)
    else:
        monkeypatch.setattr(cache_store.os, "posix_fallocate", full)
    name = "part-" if where == "chunk" else "data-1.npy"
    with pytest.raises(CacheDiskFull, match=rf"disk is full while writing .*{name}.*run the same"):
        _load(manifest)
    _no_temporaries(Path(os.environ["SERBENCH_CACHE"]))
    monkeypatch.undo()
    assert len(_load(manifest)) == len(manifest)  # once there is room, it completes


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounts need root")
def test_a_really_full_tmpfs(tmp_path, monkeypatch):
    disk = tmp_path / "tiny"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)):
        pytest.skip("cannot mount a tmpfs here")
    try:
        monkeypatch.setenv("SERBENCH_CACHE", str(disk))
        # no estimate first: the write itself must fail, and say so
        monkeypatch.setattr(cache_store, "check_free_space", lambda *args: None)
        manifest = write_wavs(tmp_path / "wavs", n=8, seconds=3.0)  # ~10 kB of rows each
        with pytest.raises(CacheDiskFull, match="disk is full while writing"):
            _load(manifest, workers=2)  # raised in a worker, reported by the parent
        _no_temporaries(disk)
    finally:
        _mount_cleanup(disk)


def _mount_cleanup(path: Path) -> None:
    # lazy: the memory-mapped table may still hold files open under it
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


# --- a read-only cache ---------------------------------------------------------------------

@contextmanager
def _read_only(folder: Path) -> Iterator[Path]:
    """``folder`` made read-only: a read-only bind mount as root, else file modes."""
    if os.geteuid() == 0:
        view = folder.parent / (folder.name + "-ro")
        view.mkdir()
        if not (_mount("--bind", str(folder), str(view))
                and _mount("-o", "remount,ro,bind", str(view))):
            _mount_cleanup(view)
            pytest.skip("cannot make a read-only bind mount here")
        try:
            yield view
        finally:
            _mount_cleanup(view)
        return
    modes = [(p, p.stat().st_mode) for p in [folder, *folder.rglob("*")]]
    for p, mode in modes:
        p.chmod(mode & ~0o222)
    try:
        yield folder
    finally:
        for p, mode in reversed(modes):
            p.chmod(mode)


def test_a_complete_read_only_cache_is_read_and_an_incomplete_one_is_explained(
        manifest, warm, monkeypatch):
    _, _, before = warm
    root = Path(os.environ["SERBENCH_CACHE"])
    with _read_only(root) as view:
        monkeypatch.setenv("SERBENCH_CACHE", str(view))
        table = _load(manifest)
        for utt, values in _values(table).items():
            np.testing.assert_array_equal(values, before[utt])
        bigger = write_wavs(root.parent / "more", n=10, seconds=1.0)
        with pytest.raises(SerbenchError, match="read-only.*serbench features extract frames8"):
            _load(bigger)


def test_blocks_grow_so_that_meta_json_stays_small():
    small = checksums.BLOCK_BYTES
    assert checksums.block_size(10) == small
    assert checksums.block_size(small * checksums.MAX_BLOCKS) == small
    assert checksums.block_size(small * checksums.MAX_BLOCKS * 3) == small * 4
