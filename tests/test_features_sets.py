"""Feature sets: registration, dimensions (17, 36, 45 and openSMILE's own counts), content."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from _feature_wavs import tone

from serbench.features import iaan, lld17, opensmile_sets, st36
from serbench.features.deltas import delta, mean_pool
from serbench.plugins import Registry, make_plugin_manager

SR = 16000


@pytest.fixture(scope="module")
def registry():
    from serbench.features import plugin

    return Registry(make_plugin_manager(load_entry_points=False, extra_plugins=[("f", plugin)]))


@pytest.fixture(scope="module")
def signal():
    return tone(150, 1.0, SR)


def test_registration_imports_neither_opensmile_nor_torch():
    code = (
        "import sys\nfrom serbench.plugins import get_registry\n"
        "names = get_registry().names('feature')\n"
        "assert 'egemaps' in names, names\n"
        "bad = [m for m in ('opensmile', 'torch', 'librosa') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_opensmile_set_at_four_levels_and_the_paper_names(registry):
    import opensmile

    names = set(registry.names("feature"))
    assert set(opensmile_sets.SETS.values()) == {m.name for m in opensmile.FeatureSet}
    for set_name in opensmile_sets.SETS:
        for level in ("lld", "lld_de", "functionals", "windows"):
            assert f"{set_name}_{level}" in names
    for paper in ("egemaps", "is10", "compare_lld", "emobase_lld", "iaan45", "lld17",
                  "lld17_drn", "st36", "tokens"):
        assert paper in names
    for entry in registry.entries("feature"):
        assert entry.spec.validate() == []


@pytest.mark.parametrize(
    ("name", "dim", "level"),
    [("egemaps", 88, "functionals"), ("is10", 1582, "functionals"), ("compare_lld", 65, "frames"),
     ("emobase_lld", 26, "frames"), ("iaan45", 45, "frames"), ("lld17", 17, "frames"),
     ("lld17_drn", 17, "frames"), ("st36", 36, "frames")],
)
def test_paper_sets_have_the_papers_dimensions(registry, signal, name, dim, level):
    from serbench.lazy import resolve

    spec = registry.feature(name)
    extractor = resolve(spec.extractor)(spec.default_params)
    out = extractor(signal, SR)
    assert spec.level == extractor.level == level
    assert len(extractor.names) == dim
    assert out.shape[-1] == dim and out.dtype == np.float32
    assert np.isfinite(out).all()


def test_opensmile_counts_match_opensmile_itself(signal):
    import opensmile

    short = signal[: SR // 2]
    for set_name, member in opensmile_sets.SETS.items():
        lld = opensmile_sets.build({"set": set_name, "level": "lld"})
        own = opensmile.Smile(opensmile.FeatureSet[member], opensmile.FeatureLevel.LowLevelDescriptors)
        assert lld.names == own.feature_names
        frames = lld(short, SR)
        assert frames.shape == (own.process_signal(short, SR).shape[0], len(own.feature_names))
        de = opensmile_sets.build({"set": set_name, "level": "lld_de"})
        assert de(short, SR).shape == (frames.shape[0], 2 * frames.shape[1])
        func = opensmile_sets.build({"set": set_name, "level": "functionals"})
        own_f = opensmile.Smile(opensmile.FeatureSet[member], opensmile.FeatureLevel.Functionals)
        assert func(short, SR).shape == (len(own_f.feature_names),)


def test_windows_cover_the_signal_every_hop_and_end_at_its_end():
    ex = opensmile_sets.build({"set": "egemapsv02", "level": "windows", "window": 1.0,
                               "hop": 0.25})
    # 2.3 s at 16 kHz: starts 0, 0.25, ..., 1.25 s; the last ends at 2.25 s, 0.05 s short
    # of the end (less than half a hop): no extra window
    assert ex.windows(36800, SR) == [(a, a + 16000) for a in range(0, 20001, 4000)]
    # 2.4 s: the last regular window ends 0.15 s short (more than half a hop): one more,
    # ending at the signal's end
    assert ex.windows(38400, SR)[-2:] == [(20000, 36000), (22400, 38400)]
    assert ex.windows(8000, SR) == [(0, 8000)]  # shorter than a window: the whole signal
    with pytest.raises(Exception, match="window=0"):
        opensmile_sets.build({"set": "egemapsv02", "level": "windows", "window": 0})
    with pytest.raises(Exception, match="numbers"):
        opensmile_sets.build({"set": "egemapsv02", "level": "windows", "hop": "fast"})


def test_windows_rows_are_the_functionals_of_each_window():
    rng = np.random.default_rng(0)
    signal = (0.1 * rng.standard_normal(int(1.8 * SR))).astype(np.float32)
    ex = opensmile_sets.build({"set": "egemapsv02", "level": "windows", "window": 1.0,
                               "hop": 0.5})
    func = opensmile_sets.build({"set": "egemapsv02", "level": "functionals"})
    rows = ex(signal, SR)
    rows = ex(signal, SR)  # 0-1 s, 0.5-1.5 s, and 0.8-1.8 s (0.3 s were left)
    assert ex.level == "frames" and rows.shape == (3, 88)
    for row, part in zip(rows, (signal[:SR], signal[SR // 2:3 * SR // 2], signal[-SR:]), strict=True):
        np.testing.assert_allclose(row, func(part, SR), rtol=1e-6)


def test_delta_is_opensmiles_regression(signal):
    import opensmile

    lld = opensmile.Smile(opensmile.FeatureSet.emobase, "lld").process_signal(signal, SR).to_numpy()
    own = opensmile.Smile(opensmile.FeatureSet.emobase, "lld_de").process_signal(signal, SR).to_numpy()
    assert own.shape[0] == lld.shape[0] + 2  # openSMILE's delta level has 2 trailing frames
    np.testing.assert_allclose(delta(lld), own[: lld.shape[0]], rtol=1e-4, atol=1e-4)


def test_mean_pool_averages_groups_including_the_last_partial_one():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.testing.assert_allclose(mean_pool(x, 5), [[4, 5], [10, 11]])


def test_iaan45_is_pooled_emobase_with_both_delta_orders(signal):
    extractor = iaan.build({})
    out = extractor(signal, SR)
    lld = opensmile_sets.OpenSmileExtractor("emobase", "lld")(signal, SR)
    names = opensmile_sets.OpenSmileExtractor("emobase", "lld").names
    assert out.shape == (int(np.ceil(lld.shape[0] / 5)), 45)
    f0 = lld[:, names.index("F0_sma")]
    np.testing.assert_allclose(out[:, extractor.names.index("F0_sma")], mean_pool(f0[:, None], 5)[:, 0], rtol=1e-5)
    m3 = lld[:, [names.index("mfcc_sma[3]")]]
    np.testing.assert_allclose(
        out[:, extractor.names.index("mfcc_sma[3]_de_de")], mean_pool(delta(delta(m3)), 5)[:, 0], rtol=1e-4, atol=1e-5
    )


def test_lld17_frame_rates_and_log_f0():
    x = tone(220, 1.0, SR)
    rlc, drn = lld17.build({}), lld17.build({"frame_size": 0.04, "frame_step": 0.01})
    a, b = rlc(x, SR), drn(x, SR)
    assert abs(a.shape[0] - 200) <= 5 and abs(b.shape[0] - 100) <= 5  # 5 ms vs 10 ms shift
    for extractor, frames in ((rlc, a), (drn, b)):
        log_f0 = frames[:, extractor.names.index("logF0")]
        voiced = log_f0[log_f0 > 0]
        assert voiced.size > 0.9 * frames.shape[0]
        assert abs(np.median(voiced) - np.log(220)) < 0.05
    silent = rlc(np.zeros(SR // 2, np.float32), SR)[:, rlc.names.index("logF0")]
    assert np.all(silent == 0)  # unvoiced: 0, never -inf
    assert rlc.names[:12] == [f"mfcc[{k}]" for k in range(1, 13)]


def test_st36_descriptors_on_a_tone():
    x = tone(440, 1.0, SR)
    extractor = st36.build({})
    out = extractor(x, SR)
    assert out.shape[1] == 36 and abs(out.shape[0] - 98) <= 2
    col = extractor.names.index
    chroma = out[:, col("chroma[0]") : col("chroma[11]") + 1].mean(axis=0)
    assert np.argmax(chroma) == 9  # A (C = 0)
    assert np.median(out[:, col("pitch_F0")]) == pytest.approx(440, rel=0.05)
    assert np.median(out[:, col("harmonic_ratio")]) > 0.8
    assert np.all(out[:, col("energy_entropy")] <= np.log2(10) + 1e-6)
