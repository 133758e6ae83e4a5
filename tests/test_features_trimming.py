"""Trimming leading and trailing silence (serbench.features.trimming) and its cache key."""

from __future__ import annotations

import numpy as np
import pytest
from _feature_wavs import tone, write_wavs

from serbench.errors import ConfigError
from serbench.features.cache import load_features
from serbench.features.trimming import (
    FRAME_S,
    HOP_S,
    TRIM_KEEP_S,
    active_span,
    extractor_params,
    trim_silence,
    trim_threshold,
)
from serbench.plugins import Registry, make_plugin_manager

SR = 16000


def _noise(seconds: float, db: float, seed: int = 0) -> np.ndarray:
    """White noise whose energy is ``db`` dB (re full scale)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SR)) * 10 ** (db / 20)).astype(np.float32)


def _padded(lead: float, speech: float, trail: float, noise_db: float = -60.0) -> np.ndarray:
    x = _noise(lead + speech + trail, noise_db)
    start = int(lead * SR)
    x[start : start + int(speech * SR)] += tone(150, speech, SR)
    return x


@pytest.mark.parametrize("noise_db", [-70.0, -45.0])
def test_the_span_is_the_speech_with_the_kept_margin(noise_db):
    x = _padded(0.6, 1.0, 0.4, noise_db)
    start, end = active_span(x, SR, 6.0)
    # the tone's edges, within a frame (a frame overlapping an edge is active), widened
    # by the margin kept either side
    assert -FRAME_S - 1e-9 <= start / SR - (0.6 - TRIM_KEEP_S) <= HOP_S + 1e-9
    assert -HOP_S - 1e-9 <= end / SR - (1.6 + TRIM_KEEP_S) <= FRAME_S + 1e-9
    np.testing.assert_array_equal(trim_silence(x, SR, 6.0), x[start:end])


def test_margins_stop_at_the_signal_edges():
    x = _padded(0.03, 1.0, 0.02)
    assert active_span(x, SR, 6.0) == (0, len(x))


def test_no_clear_silence_and_too_short_signals_are_left_whole():
    speech = tone(150, 1.0, SR)
    assert active_span(speech, SR, 6.0) == (0, len(speech))
    flat = _noise(1.0, -50.0)  # energies within a few dB of each other
    assert active_span(flat, SR, 6.0) == (0, len(flat))
    short = tone(150, 0.01, SR)  # shorter than one 25 ms frame
    assert active_span(short, SR, 6.0) == (0, len(short))


def test_a_mid_utterance_pause_is_kept():
    x = np.concatenate([_padded(0.3, 0.5, 0.0), _noise(0.8, -60.0, 1), _padded(0.0, 0.5, 0.3)])
    start, end = active_span(x, SR, 6.0)
    assert end - start > int(1.7 * SR)  # both words and the 0.8 s between them


@pytest.mark.parametrize("value", [None, "null", "none", False, 0])
def test_off_values(value):
    assert trim_threshold({"trim_silence": value}) is None
    assert trim_threshold({}) is None


def test_on_values_and_bad_values():
    assert trim_threshold({"trim_silence": "6"}) == 6.0
    assert trim_threshold({"trim_silence": 10}) == 10.0
    for bad in ("loud", -3, float("nan")):
        with pytest.raises(ConfigError, match=r"trim_silence=.* of feature 'lld17'.*e\.g\. trim_silence=10"):
            trim_threshold({"trim_silence": bad}, "lld17")


def test_the_extractor_never_sees_the_parameter():
    assert extractor_params({"frame_step": 0.01, "trim_silence": 6}) == {"frame_step": 0.01}


def test_trimmed_features_have_their_own_cache_and_fewer_frames(tmp_path, serbench_env):
    import soundfile

    from serbench.features import plugin

    manifest = write_wavs(tmp_path / "wavs", n=2)
    for i, path in enumerate(manifest["path"]):  # pad each tone with 0.5 s of quiet noise
        x, _ = soundfile.read(path, dtype="float32")
        soundfile.write(path, np.concatenate([_noise(0.5, -60, i), x, _noise(0.5, -60, i + 9)]), SR)

    class Features:
        from serbench import hookimpl

        register_features = staticmethod(hookimpl(plugin.register_features))

    registry = Registry(make_plugin_manager(load_entry_points=False, extra_plugins=[("f", Features)]))
    kw = dict(fingerprint="fp", registry=registry, workers=1, progress=False)
    whole = load_features(manifest, "lld17", **kw)
    trimmed = load_features(manifest, "lld17", params={"trim_silence": 6}, **kw)
    assert trimmed.info()["extracted_now"] == 2 and trimmed.info()["params"]["trim_silence"] == 6
    assert trimmed.info()["cache"] != whole.info()["cache"]
    for utt in manifest["utt_id"]:
        # 1 s of noise less, minus the 0.1 s kept either side and up to a 25 ms frame
        # overlapping each edge: 150-160 frames of 5 ms fewer
        assert whole.length(utt) - trimmed.length(utt) == pytest.approx(155, abs=6)
    off = load_features(manifest, "lld17", params={"trim_silence": None}, **kw)
    assert off.info()["extracted_now"] == 0 and off.info()["cache"] == whole.info()["cache"]
    with pytest.raises(ConfigError, match="trim_silence='loud' of feature 'lld17'"):
        load_features(manifest, "lld17", params={"trim_silence": "loud"}, **kw)
