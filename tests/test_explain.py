"""``serbench explain``: rebuild a fold's saved model, collect attention maps, draw PNGs.

A tiny BiLSTM+attention is trained for one epoch on in-memory toy features (no audio).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from _run_helpers import toy_registry, toy_table

from serbench.errors import ConfigError
from serbench.explain import draw, explain_utterance
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
    assert e.frame_step is None  # toy features have no frame step: x axis in frames
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
