"""``serbench plot curves`` writes a readable PNG of validation UA per epoch."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
from click.testing import CliRunner

from serbench.cli import cli
from serbench.errors import ConfigError


def write_run(root: Path, run_id: str, model: str, curves: list[list[float]] | None) -> Path:
    folds = [
        {"name": f"spk{i}", "curve": [
            {"epoch": e + 1, "train_loss": 1.0, "valid_loss": 1.0, "valid_ua": v,
             "seconds": 0.1} for e, v in enumerate(values)]}
        for i, values in enumerate(curves or [[], []])
    ]
    record = {"run_id": run_id, "model": {"name": model, "variant": None},
              "corpus": {"name": "manifest"}, "protocol": {"name": "loso-speaker"},
              "training": {"seed": 0}, "folds": folds}
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
