"""The ssl feature through serbench's cache: resampling, keys per checkpoint, warm reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import soundfile
from _ssl_tiny import HIDDEN, LAYERS, save_tiny
from serbench.features.cache import cache_status, load_features
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture
def env(tmp_path, monkeypatch) -> Path:
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    return tmp_path


def _digest(folder: Path, **params) -> str:
    return cache_status("ssl", params={"model": str(folder), **params},
                        fingerprint="corpus")["digest"]


def test_the_key_changes_with_the_config_and_the_weights(env) -> None:
    base = save_tiny(env / "a", "wavlm", seed=0)
    same = _digest(base)
    assert _digest(base) == same  # stable
    other_config = save_tiny(env / "b", "wavlm", seed=0, intermediate_size=24)
    other_weights = save_tiny(env / "c", "wavlm", seed=1)
    status = cache_status("ssl", params={"model": str(other_weights)}, fingerprint="corpus")
    assert status["key"]["backend"]["model_type"] == "wavlm"
    assert set(status["key"]["backend"]) >= {"config_sha256", "weights_sha256", "transformers"}
    # a copy of the same checkpoint in another folder: another path, so another key
    copy = save_tiny(env / "d", "wavlm", seed=0)
    digests = {same, _digest(other_config), _digest(other_weights), _digest(copy)}
    assert len(digests) == 4
    a, b = (cache_status("ssl", params={"model": str(f)}, fingerprint="corpus")["key"]["backend"]
            for f in (base, copy))
    assert a == b  # ... while the checkpoint's own fingerprint is the same
    assert _digest(base, layer="all") != same


def test_extracts_once_resampling_to_the_models_rate(env) -> None:
    csv = write_tiny_corpus(env / "tiny", speakers=2, per_speaker=2)
    manifest = pl.read_csv(csv)
    # one file at 8 kHz: the cache resamples it to the model's 16 kHz first
    first = env / "tiny" / manifest["path"][0]
    audio, rate = soundfile.read(first, dtype="float32")
    soundfile.write(first, audio[::2], rate // 2)
    manifest = manifest.with_columns(pl.col("path").map_elements(lambda p: str(env / "tiny" / p),
                                                                 return_dtype=pl.String))
    folder = save_tiny(env / "wavlm", "wavlm")
    params = {"model": str(folder), "layer": "all"}
    table = load_features(manifest, "ssl", params=params, fingerprint="tiny", workers=1,
                          progress=False)
    assert table.level == "frames" and table.dim == (LAYERS + 1) * HIDDEN
    assert table.info()["extracted_now"] == len(manifest)
    for utt, path in zip(manifest["utt_id"], manifest["path"], strict=True):
        seconds = soundfile.info(path).duration
        assert abs(table.length(utt) - seconds * 50) <= 2, (utt, seconds)
    again = load_features(manifest, "ssl", params=params, fingerprint="tiny", workers=1,
                          progress=False)
    assert again.info()["extracted_now"] == 0
    np.testing.assert_array_equal(again[manifest["utt_id"][0]], table[manifest["utt_id"][0]])
    meta = json.loads((Path(table.info()["cache"]) / "meta.json").read_text())
    assert meta["names"][:2] == ["l0_d0", "l0_d1"] and meta["names"][-1] == f"l{LAYERS}_d{HIDDEN - 1}"
