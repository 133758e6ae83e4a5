"""``serbench plot curves`` and ``plot confusion``: figures at a chosen size, dpi and format."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.errors import ConfigError
from serbench.figures import FigureStyle
from serbench.run.confusion_plot import pooled_confusion, row_normalise
from serbench.run.curves import curves_figure


def write_run(root: Path, run_id: str, model: str, curves: list[list[float]] | None,
              best: list[int] | None = None) -> Path:
    folds = [
        {"name": f"spk{i}", "best_epoch": best[i] if best else None, "curve": [
            {"epoch": e + 1, "train_loss": 1.0, "valid_loss": 1.0, "valid_ua": v,
             "seconds": 0.1} for e, v in enumerate(values)]}
        for i, values in enumerate(curves or [[], []])
    ]
    record = {"run_id": run_id, "model": {"name": model, "variant": None},
              "corpus": {"name": "manifest", "classes": ["ang", "hap", "neu", "sad"]},
              "protocol": {"name": "loso-speaker", "n_folds": 2}, "training": {"seed": 0},
              "folds": folds}
    folder = root / run_id
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"run_id": run_id}))
    (folder / "record.json").write_text(json.dumps(record))
    return folder


def test_plot_curves_writes_png(tmp_path):
    a = write_run(tmp_path, "bilstm_att-manifest-loso-speaker-s0-aaaa1111", "bilstm_att",
                  [[0.3, 0.4, 0.5], [0.35, 0.45]])
    write_run(tmp_path, "other-manifest-loso-speaker-s0-bbbb2222", "other",
              [[0.25, 0.3, 0.32, 0.4]])
    out = tmp_path / "figs" / "curves.png"
    result = CliRunner().invoke(cli, ["plot", "curves", str(a), "other", "--runs-dir",
                                      str(tmp_path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = matplotlib.image.imread(out).shape
    assert (width, height) == (960, 600)


def test_plot_without_curves_is_an_error(tmp_path):
    write_run(tmp_path, "svm-manifest-loso-speaker-s0-cccc3333", "svm", None)
    result = CliRunner().invoke(cli, ["plot", "curves", "svm-manifest", "--runs-dir",
                                      str(tmp_path), "-o", str(tmp_path / "x.png")])
    assert isinstance(result.exception, ConfigError)
    assert "only torch models record per-epoch curves" in str(result.exception)
    assert not (tmp_path / "x.png").exists()


def test_plot_unknown_run_names_the_place_looked(tmp_path):
    result = CliRunner().invoke(cli, ["plot", "curves", "nope", "--runs-dir", str(tmp_path)])
    assert isinstance(result.exception, ConfigError)
    assert "no run 'nope'" in str(result.exception) and str(tmp_path) in str(result.exception)


def test_curves_mark_each_folds_best_epoch_and_chance(tmp_path):
    folder = write_run(tmp_path, "m-run", "m", [[0.3, 0.5, 0.4], [0.2, 0.35]], best=[2, 1])
    record = json.loads((folder / "record.json").read_text())
    fig = curves_figure([record], style=FigureStyle(size=(3.3, 2.5)))
    ax = fig.axes[0]
    stars = sorted((float(line.get_xdata()[0]), float(line.get_ydata()[0]))
                   for line in ax.lines if line.get_marker() == "*")
    assert stars == [(1.0, 20.0), (2.0, 50.0)]  # (best epoch, its UA %) of each fold
    chance = [line for line in ax.lines if line.get_label() == "chance (1/4 classes)"]
    assert len(chance) == 1 and list(chance[0].get_ydata()) == [25.0, 25.0]
    assert tuple(fig.get_size_inches()) == (3.3, 2.5)


@pytest.mark.parametrize("name, magic", [("c.pdf", b"%PDF"), ("c.svg", b"<?xml")])
def test_plot_curves_size_dpi_and_vector_formats(tmp_path, name, magic):
    write_run(tmp_path, "m-run", "m", [[0.3, 0.5], [0.2, 0.35]], best=[2, 2])
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["plot", "curves", "m-run", "--runs-dir", str(tmp_path),
                                      "-o", str(out), "--size", "3.3,2.5"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:5].startswith(magic)
    png = tmp_path / "c"
    result = CliRunner().invoke(cli, ["plot", "curves", "m-run", "--runs-dir", str(tmp_path),
                                      "-o", str(png), "--format", "png", "--size", "4,3",
                                      "--dpi", "50"])
    assert result.exit_code == 0, result.output
    height, width, _ = matplotlib.image.imread(tmp_path / "c.png").shape
    assert (width, height) == (200, 150)


def test_bad_figure_options_are_refused_before_drawing(tmp_path):
    write_run(tmp_path, "m-run", "m", [[0.3, 0.5]], best=[2])
    base = ["plot", "curves", "m-run", "--runs-dir", str(tmp_path)]
    bad_size = CliRunner().invoke(cli, [*base, "--size", "wide"])
    assert bad_size.exit_code == 2 and "give width,height in inches" in bad_size.output
    clash = CliRunner().invoke(cli, [*base, "-o", str(tmp_path / "a.pdf"), "--format", "svg"])
    assert isinstance(clash.exception, ConfigError)
    assert "is a .pdf file but --format is svg" in str(clash.exception)
    unknown = CliRunner().invoke(cli, [*base, "-o", str(tmp_path / "a.jpg")])
    assert "unknown figure format .jpg" in str(unknown.exception)
    assert not list(tmp_path.glob("a.*"))


def _predictions(folder: Path) -> pl.DataFrame:
    rows = [("ang", "ang")] * 3 + [("ang", "sad")] + [("hap", "hap")] * 2 + [("neu", "hap")] \
        + [("sad", "sad")] * 4
    frame = pl.DataFrame({"utt_id": [f"u{i}" for i in range(len(rows))],
                          "fold": ["spk0"] * len(rows), "speaker": ["spk0"] * len(rows),
                          "label": [t for t, _ in rows], "pred": [p for _, p in rows]})
    frame.write_parquet(folder / "predictions.parquet")
    return frame


def test_pooled_confusion_counts_and_row_shares(tmp_path):
    frame = _predictions(tmp_path)
    counts = pooled_confusion(frame, ["ang", "hap", "neu", "sad"])
    assert counts.tolist() == [[3, 0, 0, 1], [0, 2, 0, 0], [0, 1, 0, 0], [0, 0, 0, 4]]
    shares = row_normalise(counts)
    assert shares[0].tolist() == [0.75, 0, 0, 0.25] and shares[2].tolist() == [0, 1, 0, 0]
    with pytest.raises(ConfigError, match=r"classes \['neu', 'sad'\] that the record's"):
        pooled_confusion(frame, ["ang", "hap"])


def test_plot_confusion_cli_writes_a_figure_beside_the_run(tmp_path):
    folder = write_run(tmp_path, "m-run", "m", [[0.3, 0.5]], best=[2])
    _predictions(folder)
    result = CliRunner().invoke(cli, ["plot", "confusion", "m-run", "--runs-dir", str(tmp_path),
                                      "--counts", "--dpi", "60", "--size", "5,4"])
    assert result.exit_code == 0, result.output
    image = matplotlib.image.imread(folder / "confusion.png")
    assert image.shape[:2] == (240, 300)
    assert np.ptp(image[..., :3]) > 0.5  # drawn, not blank
    pdf = tmp_path / "cm.pdf"
    result = CliRunner().invoke(cli, ["plot", "confusion", str(folder), "-o", str(pdf)])
    assert result.exit_code == 0 and pdf.read_bytes()[:4] == b"%PDF"
