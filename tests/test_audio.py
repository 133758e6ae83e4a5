"""serbench.audio: mono down-mix, resampling, segments, errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from serbench.audio import AudioError, read_audio, resample


def test_stereo_is_averaged_to_mono(tmp_path):
    left = np.full(800, 0.5, np.float32)
    right = np.full(800, -0.1, np.float32)
    path = tmp_path / "st.wav"
    soundfile.write(path, np.stack([left, right], axis=1), 8000, subtype="FLOAT")
    signal, rate = read_audio(path)
    assert rate == 8000 and signal.shape == (800,)
    np.testing.assert_allclose(signal, 0.2, atol=1e-6)


def test_resampling_keeps_duration_and_pitch(tmp_path):
    sr = 44100
    t = np.arange(sr) / sr
    path = tmp_path / "s.wav"
    soundfile.write(path, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    signal, rate = read_audio(path, 16000)
    assert rate == 16000 and signal.dtype == np.float32
    assert abs(signal.size - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(signal))
    assert abs(np.argmax(spectrum) * 16000 / signal.size - 440) < 2


def test_resample_identity_and_ratio():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    assert resample(x, 16000, 16000) is not None and np.array_equal(resample(x, 16000, 16000), x)
    assert resample(x, 16000, 8000).shape == (500,)


def test_segment_is_cut_before_anything_else(tmp_path):
    sr = 16000
    x = np.concatenate([np.zeros(sr), np.full(sr, 0.25), np.zeros(sr)]).astype(np.float32)
    path = tmp_path / "seg.wav"
    soundfile.write(path, x, sr, subtype="FLOAT")
    signal, _ = read_audio(path, start=1.0, end=2.0)
    assert signal.size == sr
    np.testing.assert_allclose(signal, 0.25, atol=1e-6)
    tail, _ = read_audio(path, start=2.5)
    assert tail.size == sr // 2


def test_bad_segment_and_missing_file_name_the_file(tmp_path):
    path = tmp_path / "short.wav"
    soundfile.write(path, np.zeros(1600, np.float32), 16000)
    with pytest.raises(AudioError, match="short.wav"):
        read_audio(path, start=5.0, end=6.0)
    with pytest.raises(AudioError, match="nothere.wav"):
        read_audio(tmp_path / "nothere.wav")
