"""``serbench explain``: rebuild a fold's saved model, collect attention maps, draw figures.

A tiny BiLSTM+attention is trained for one epoch on in-memory toy features; the tiny
corpus's WAVs are on disk, so explain finds the utterance's audio for a spectrogram.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from _run_helpers import toy_registry, toy_table

from serbench.errors import ConfigError
from serbench.explain import Explanation, draw, explain_utterance
from serbench.explain_figures import figures, time_axis
from serbench.features.frame_step import frame_step
from serbench.figures import FigureStyle
from serbench.plugins import get_registry
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("explain")
    csv = write_tiny_corpus(root / "tiny", speakers=4, per_speaker=4)
    registry, table = toy_registry(), toy_table(csv, "frames")
    record = run_experiment(
        RunConfig(model="bilstm_att", corpus="manifest", data=csv, protocol="loso",
                  feature="toy_frames", overrides={"hidden": 4, "batch_size": 8}, max_epochs=1,
                  device="cpu", runs_dir=root / "runs"),
        registry=registry, features=table, progress=False, command=["serbench", "run"],
    )
    run_dir = root / "runs" / record["run_id"]
    return {"dir": run_dir, "registry": registry, "table": table,
            "predictions": pl.read_parquet(run_dir / "predictions.parquet")}


def _explain(trained: dict, utt: str, run: Path | None = None):
    return explain_utterance(run or trained["dir"], utt, registry=trained["registry"],
                             features=trained["table"])


def test_explain_draws_pooling_weights(trained: dict, tmp_path: Path) -> None:
    row = trained["predictions"].row(0, named=True)
    e = _explain(trained, row["utt_id"])
    assert (e.fold, e.label, e.pred) == (row["fold"], row["label"], row["pred"])
    assert e.model_pred == row["pred"]  # the rebuilt model is the one that was tested
    weights = e.maps["frames"]
    assert weights.shape == (e.features.shape[0],)
    assert abs(weights.sum() - 1) < 1e-5
    assert e.frame_step is None  # toy features have no frame step ...
    assert e.feature_names == ["f0", "f1", "f2", "f3"]
    assert e.sample_rate == 16000 and 0.5 <= len(e.audio) / 16000 <= 1.0  # the tiny WAV
    step, unit = time_axis(e)  # ... so seconds come from the audio's duration
    assert step == pytest.approx(len(e.audio) / 16000 / e.features.shape[0])
    assert unit == "time (s; audio duration / frames)"
    files = draw(e, tmp_path / "png")
    assert [f.name for f in files] == ["frames.png"]
    assert files[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert files[0].stat().st_size > 5000


def test_draw_matrices_and_curves(tmp_path: Path) -> None:
    import numpy as np

    from serbench.explain import Explanation

    rng = np.random.default_rng(0)
    heads = rng.random((4, 6, 6))
    e = Explanation(run_id="r", utt_id="u", fold="f", model="m", variant=None, label="a",
                    pred="b", model_pred="b", features=rng.normal(size=(48, 17)), frame_step=0.005,
                    maps={"self_attention/g3u1": heads / heads.sum(-1, keepdims=True),
                          "gca_informativeness": rng.random((3, 6))})
    files = draw(e, tmp_path)
    assert sorted(f.name for f in files) == ["gca_informativeness.png", "self_attention_g3u1.png"]


def test_unknown_utterance_is_a_clear_error(trained: dict) -> None:
    with pytest.raises(ConfigError, match="no finished fold's test set"):
        _explain(trained, "nope")


def test_missing_weights_is_a_clear_error(trained: dict, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / trained["dir"].name
    shutil.copytree(trained["dir"], copy)
    for pt in copy.glob("model_*.pt"):
        pt.unlink()
    with pytest.raises(ConfigError, match="no weights"):
        _explain(trained, trained["predictions"]["utt_id"][0], run=copy)


def test_cli_reports_a_missing_run(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from serbench.cli import cli

    result = CliRunner().invoke(cli, ["explain", "nosuchrun", "u1", "--runs-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "no run" in str(result.exception) + result.output


@pytest.mark.parametrize("feature, step", [
    ("lld17", 0.005), ("lld17_drn", 0.010), ("st36", 0.010), ("iaan45", 0.050),
    ("compare_lld", 0.010), ("egemapsv02_lld_de", 0.010), ("egemaps", None), ("tokens", None),
])
def test_frame_step_of_each_builtin_feature(feature: str, step: float | None) -> None:
    spec = get_registry().feature(feature)
    assert frame_step(spec, dict(spec.default_params)) == (
        pytest.approx(step) if step else None)


def test_frame_step_follows_the_runs_params() -> None:
    registry = get_registry()
    iaan = registry.feature("iaan45")
    assert frame_step(iaan, {**iaan.default_params, "pool": 2}) == pytest.approx(0.02)
    lld = registry.feature("lld17")
    assert frame_step(lld, {**lld.default_params, "frame_step": 0.02}) == 0.02


def _explanation(audio: bool, **extra) -> Explanation:
    rng = np.random.default_rng(0)
    weights = rng.random(40)
    return Explanation(
        run_id="r", utt_id="u", fold="f", model="m", variant=None, label="a", pred="b",
        model_pred="b", features=rng.normal(size=(40, 3)).astype(np.float32), frame_step=0.01,
        maps={"frames": weights / weights.sum()}, feature_names=["F0", "loudness", "mfcc1"],
        audio=rng.normal(scale=0.1, size=6400).astype(np.float32) if audio else None,
        sample_rate=16000 if audio else None, **extra)


def test_attention_in_seconds_above_a_spectrogram_with_a_colour_bar() -> None:
    fig = dict(figures(_explanation(audio=True), FigureStyle(size=(7, 4))))["frames"]
    attention, spectrogram, _, colour_bar = fig.axes
    assert attention.get_xlim() == pytest.approx((0, 0.40))  # 40 frames x 10 ms
    assert attention.get_lines()[0].get_xdata()[0] == pytest.approx(0.005)  # frame centres
    assert spectrogram.get_xlabel() == "time (s)"
    assert spectrogram.get_ylabel() == "frequency (Hz)"
    assert colour_bar.get_ylabel() == "power (dB)"
    assert tuple(fig.get_size_inches()) == (7, 4)


def test_without_audio_the_features_are_drawn_with_named_dimensions() -> None:
    fig = dict(figures(_explanation(audio=False)))["frames"]
    _, features, _, colour_bar = fig.axes
    assert [t.get_text() for t in features.get_yticklabels()] == ["F0", "loudness", "mfcc1"]
    assert colour_bar.get_ylabel() == "normalised value"
    assert features.get_xlim() == pytest.approx((0, 0.40))


@pytest.mark.parametrize("fmt, magic", [("pdf", b"%PDF"), ("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_draw_writes_the_chosen_format(tmp_path: Path, fmt: str, magic: bytes) -> None:
    style = FigureStyle(size=(4, 3), dpi=50, format=fmt)
    files = draw(_explanation(audio=True), tmp_path, style=style)
    assert [f.name for f in files] == [f"frames.{fmt}"]
    assert files[0].read_bytes().startswith(magic)
    if fmt == "png":
        import matplotlib.image

        assert matplotlib.image.imread(files[0]).shape[:2] == (150, 200)


def test_context_maps_without_a_previous_turn_say_so() -> None:
    e = _explanation(audio=False)
    e.maps["context/prev_self"] = np.array([0.5, 0.5])
    e.maps["context/prev_other"] = np.zeros(1)
    e.context["context/prev_self"] = ("spk2_004", np.zeros((2, 3), dtype=np.float32))
    fig = dict(figures(e))["context"]
    own, other = fig.axes
    assert own.get_title() == "the speaker's previous turn: spk2_004"
    assert [p.get_height() for p in own.patches] == [0.5, 0.5]
    assert own.get_xlim() == pytest.approx((0, 0.02))  # 2 frames x 10 ms
    assert "none (no earlier turn" in other.texts[0].get_text()
    # the current utterance's audio says nothing of the previous turn's duration
    e.frame_step, e.audio, e.sample_rate = None, np.zeros(6400, dtype=np.float32), 16000
    own = dict(figures(e))["context"].axes[0]
    assert own.get_xlim() == pytest.approx((0, 2)) and own.get_xlabel() == ""
    assert dict(figures(e))["context"].axes[1].get_xlabel() == "input frame in the previous turn"


def test_cli_passes_size_dpi_and_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import serbench.explain
    from serbench.cli import cli

    monkeypatch.setattr(serbench.explain, "explain_utterance",
                        lambda run, utt, runs_dir=None: _explanation(audio=True))
    out = tmp_path / "figs"
    result = CliRunner().invoke(cli, ["explain", "run", "u", "-o", str(out), "--format", "svg",
                                      "--size", "5,3"])
    assert result.exit_code == 0, result.output
    assert (out / "frames.svg").read_bytes().startswith(b"<?xml")
    assert 'width="360pt" height="216pt"' in (out / "frames.svg").read_text()  # 5 x 3 in
    bad = CliRunner().invoke(cli, ["explain", "run", "u", "-o", str(out), "--dpi", "5"])
    assert bad.exit_code == 2 and "--dpi" in bad.output
