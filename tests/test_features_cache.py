"""The feature cache: extract once, resume after an interruption, serve subsets, bad input."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
import soundfile
from _feature_wavs import tone, write_wavs

from serbench.audio import read_audio
from serbench.components import FeatureSpec
from serbench.errors import ConfigError, SerbenchError
from serbench.features import cache as cache_mod
from serbench.features.cache import load_features
from serbench.lazy import resolve
from serbench.plugins import Registry, make_plugin_manager

SR = 16000


class NanExtractor:
    """Frames with NaN in a few places (and a dimension that is never finite for 'u_dead')."""

    level = "frames"
    sample_rate = SR
    names = ["a", "b"]
    backend = {"test": "1"}
    min_seconds = 0.05

    def __call__(self, signal, sample_rate):
        t = max(4, signal.size // 1600)
        out = np.tile(np.array([[1.0, 2.0]], np.float32), (t, 1))
        out[:, 0] += np.arange(t)
        out[1, 0] = np.nan
        out[2, 1] = np.inf
        if abs(float(signal.max()) - 0.123) < 1e-3:  # the 'dead' file
            out[:, 1] = np.nan
        return out


def build_nan(params):
    return NanExtractor()


class _TestPlugin:
    from serbench import hookimpl

    @staticmethod
    @hookimpl
    def register_features(register):
        from serbench.features import plugin

        plugin.register_features(register)
        register(FeatureSpec(name="nanfeat", version=1, description="test: NaN frames",
                             extractor=f"{__name__}:build_nan", level="frames"))


@pytest.fixture
def registry():
    return Registry(make_plugin_manager(load_entry_points=False, extra_plugins=[("t", _TestPlugin)]))


@pytest.fixture
def manifest(tmp_path, serbench_env):
    return write_wavs(tmp_path / "wavs", n=6)


def test_extracts_once_and_matches_the_extractor(manifest, registry, monkeypatch):
    table = load_features(manifest, "lld17", fingerprint="fp1", registry=registry, workers=1, progress=False)
    assert len(table) == 6 and table.dim == 17 and table.level == "frames"
    assert table.info()["extracted_now"] == 6
    extractor = resolve(registry.feature("lld17").extractor)(registry.feature("lld17").default_params)
    signal, rate = read_audio(manifest["path"][2], SR)
    np.testing.assert_array_equal(table["u2"], extractor(signal, rate))
    assert isinstance(table.data, np.memmap)

    def boom(*args, **kwargs):
        raise AssertionError("the second call must extract nothing")

    monkeypatch.setattr(cache_mod, "_chunk_job", boom)
    again = load_features(manifest, "lld17", fingerprint="fp1", registry=registry, workers=1, progress=False)
    assert again.info()["extracted_now"] == 0
    np.testing.assert_array_equal(again["u5"], table["u5"])
    # another fingerprint or other params: another key, so extraction runs (and fails here)
    with pytest.raises(AssertionError, match="extract nothing"):
        load_features(manifest, "lld17", fingerprint="fp2", registry=registry, workers=1, progress=False)
    with pytest.raises(AssertionError, match="extract nothing"):
        load_features(manifest, "lld17", params={"frame_step": 0.01}, fingerprint="fp1",
                      registry=registry, workers=1, progress=False)


def test_two_workers_give_the_same_table(manifest, registry):
    one = load_features(manifest, "egemaps", fingerprint="a", registry=registry, workers=1, progress=False)
    two = load_features(manifest, "egemaps", fingerprint="b", registry=registry, workers=2, progress=False)
    assert one.dim == 88 and one.level == "functionals"
    for utt in manifest["utt_id"]:
        assert one[utt].shape == (88,)
        np.testing.assert_array_equal(one[utt], two[utt])


def test_interrupted_extraction_resumes_from_finished_chunks(manifest, registry, monkeypatch):
    real = cache_mod._chunk_job
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_mod, "_chunk_job", interrupted)
    with pytest.raises(KeyboardInterrupt):
        load_features(manifest, "emobase_lld", fingerprint="fp", registry=registry, workers=1, progress=False)
    folder = next((cache_mod.paths.cache_dir() / "features").glob("emobase_lld-v1/*"))
    assert not (folder / "meta.json").exists()  # a half-written cache is never readable
    assert len(list((folder / "chunks").glob("part-*.npz"))) == 2
    leftover = folder / "chunks" / "garbage.tmp"
    leftover.write_bytes(b"half written")  # a killed writer's: removed, never read
    monkeypatch.setattr(cache_mod, "_chunk_job", real)
    table = load_features(manifest, "emobase_lld", fingerprint="fp", registry=registry, workers=1, progress=False)
    assert table.info()["extracted_now"] == 4  # 6 utterances, one per chunk, 2 were done
    assert len(table) == 6 and not list((folder / "chunks").glob("part-*.npz"))
    assert not leftover.exists()


def test_subsets_are_served_and_supersets_extend_the_cache(manifest, registry):
    first = manifest.head(3)
    load_features(first, "iaan45", fingerprint="fp", registry=registry, workers=1, progress=False)
    sub = load_features(manifest.slice(1, 1), "iaan45", fingerprint="fp", registry=registry, workers=1, progress=False)
    assert sub.ids == ["u1"] and sub.info()["extracted_now"] == 0 and sub["u1"].shape[1] == 45
    full = load_features(manifest, "iaan45", fingerprint="fp", registry=registry, workers=1, progress=False)
    assert full.info()["extracted_now"] == 3 and len(full) == 6
    assert set(full.ids) == set(manifest["utt_id"])


def test_bad_input_rule(tmp_path, serbench_env, registry):
    folder = tmp_path / "bad"
    folder.mkdir()
    files = {
        "silent": np.zeros(SR // 2, np.float32),
        "short": tone(200, 0.02),
        "clipped": np.clip(tone(200, 0.5) * 10, -1, 1),
        "fine": tone(200, 0.5),
    }
    rows = []
    for name, x in files.items():
        soundfile.write(folder / f"{name}.wav", x, SR, subtype="FLOAT")
        rows.append({"utt_id": name, "path": str(folder / f"{name}.wav"), "speaker": "s", "label": "a"})
    (folder / "broken.wav").write_bytes(b"RIFF not really a wav file")
    rows.append({"utt_id": "broken", "path": str(folder / "broken.wav"), "speaker": "s", "label": "a"})
    manifest = pl.DataFrame(rows)
    table = load_features(manifest, "egemaps", fingerprint="bad", registry=registry, workers=1, progress=False)
    info = table.info()
    assert set(info["excluded"]) == {"broken"} and "broken" not in table
    with pytest.raises(KeyError, match="excluded at extraction"):
        table["broken"]
    report = json.loads((cache_mod.Path(info["cache"]) / "meta.json").read_text())["report"]
    issues = {r["utt_id"]: (r["issue"], r["action"]) for r in report}
    assert issues["silent"][0].startswith("silent")
    assert issues["short"][1].startswith("zero-padded")
    assert issues["clipped"][0].startswith("clipped")
    assert issues["broken"][1] == "excluded"
    assert "fine" not in issues
    for utt in ("silent", "short", "clipped", "fine"):
        assert np.isfinite(table[utt]).all()
    again = load_features(manifest, "egemaps", fingerprint="bad", registry=registry, workers=1, progress=False)
    assert again.info()["extracted_now"] == 0  # excluded files are remembered, not retried


def test_nan_frames_are_repaired_with_the_utterance_mean_or_excluded(tmp_path, serbench_env, registry):
    folder = tmp_path / "nan"
    folder.mkdir()
    soundfile.write(folder / "ok.wav", tone(200, 0.5), SR, subtype="FLOAT")
    soundfile.write(folder / "dead.wav", np.full(SR // 2, 0.123, np.float32), SR, subtype="FLOAT")
    manifest = pl.DataFrame({"utt_id": ["ok", "dead"], "path": [str(folder / "ok.wav"), str(folder / "dead.wav")],
                             "speaker": ["s", "s"], "label": ["a", "a"]})
    table = load_features(manifest, "nanfeat", fingerprint="n", registry=registry, workers=1, progress=False)
    x = table["ok"]
    assert np.isfinite(x).all()
    finite_a = np.delete(np.arange(x.shape[0]) + 1.0, 1)
    assert x[1, 0] == pytest.approx(finite_a.mean())
    assert x[2, 1] == pytest.approx(2.0)
    assert "dead" in table.info()["excluded"] and "dead" not in table


def test_everything_excluded_is_an_error_and_tokens_are_not_cached(tmp_path, serbench_env, registry):
    (tmp_path / "x.wav").write_bytes(b"nope")
    manifest = pl.DataFrame({"utt_id": ["x"], "path": [str(tmp_path / "x.wav")], "speaker": ["s"], "label": ["a"]})
    with pytest.raises(SerbenchError, match="no utterance could be extracted.*x.wav"):
        load_features(manifest, "egemaps", fingerprint="z", registry=registry, workers=1, progress=False)
    with pytest.raises(ConfigError, match="Vocabulary"):
        load_features(manifest, "tokens", fingerprint="z", registry=registry, progress=False)


NEMO = cache_mod.Path("/work/shared/data/nemo")


@pytest.mark.skipif(not (NEMO / "data.tsv").exists(), reason="the nEMO sample is not on this machine")
def test_real_nemo_files_at_24khz(serbench_env, registry):
    """A few real recordings: resampled 24 -> 16 kHz, every paper set finite."""
    table = pl.read_csv(NEMO / "data.tsv", separator="\t").head(3)
    manifest = pl.DataFrame({
        "utt_id": table["file_id"].to_list(),
        "path": [str(NEMO / "samples" / f) for f in table["file_id"]],
        "speaker": [s.strip() for s in table["speaker_id"]],
        "label": table["emotion"].to_list(),
    })
    assert soundfile.info(manifest["path"][0]).samplerate == 24000
    for feature, dim in (("egemaps", 88), ("lld17", 17), ("st36", 36)):
        features = load_features(manifest, feature, fingerprint="nemo", registry=registry, workers=1,
                                 progress=False)
        assert len(features) == 3 and features.dim == dim
        assert all(np.isfinite(features[u]).all() for u in features)
    duration = soundfile.info(manifest["path"][0]).duration
    frames = features[manifest["utt_id"][0]].shape[0]
    assert abs(frames - duration * 100) < 5  # st36: 10 ms shift after resampling


PAPER_SETS = {"egemaps": 88, "is10": 1582, "compare_lld": 65, "emobase_lld": 26, "iaan45": 45,
              "lld17": 17, "lld17_drn": 17, "st36": 36}


@pytest.mark.slow
def test_every_paper_set_on_the_synthetic_corpus(serbench_env):
    """The issue's 'done when': every named set extracts on the synthetic corpus, with the
    papers' dimensions, and a second run extracts nothing."""
    from serbench.corpora.api import corpus_fingerprint, load_corpus

    corpus = load_corpus("synthetic")
    fingerprint = corpus_fingerprint(corpus)
    for feature, dim in PAPER_SETS.items():
        table = load_features(corpus.manifest, feature, fingerprint=fingerprint, workers=2, progress=False)
        assert table.dim == dim and len(table) == corpus.manifest.height, feature
        assert not table.info()["excluded"], table.info()["excluded"]
        again = load_features(corpus.manifest, feature, fingerprint=fingerprint, progress=False)
        assert again.info()["extracted_now"] == 0


def test_a_warm_cache_is_read_without_starting_opensmile(manifest, tmp_path):
    import os
    import subprocess
    import sys

    load_features(manifest, "lld17", fingerprint="warm", workers=1, progress=False)
    csv = tmp_path / "m.csv"
    manifest.write_csv(csv)
    code = (
        "import sys, polars as pl\nfrom serbench.features.cache import load_features\n"
        f"t = load_features(pl.read_csv({str(csv)!r}), 'lld17', fingerprint='warm', progress=False)\n"
        "assert t.info()['extracted_now'] == 0 and t.dim == 17\n"
        "assert 'opensmile' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))
