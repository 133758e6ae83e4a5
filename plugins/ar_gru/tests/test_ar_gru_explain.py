"""``serbench explain`` on a tiny trained AR-GRU: the attention over the previous turns,
labelled with the turns' utt_ids and drawn per utterance."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from _ar_gru_registry import isolated_registry
from serbench.data.context import context_lookup
from serbench.explain import draw, explain_utterance
from serbench.explain_figures import figures
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from test_run_end_to_end import TINY, _corpus, _toy_features_plugin


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("ar_gru_explain")
    csv, table = _corpus(root / "tiny")
    registry = isolated_registry([("toy_features", _toy_features_plugin())])
    record = run_experiment(
        RunConfig(model="ar_gru", corpus="manifest", data=csv, protocol="loso",
                  feature="toy_frames", overrides=TINY, max_epochs=1, device="cpu",
                  folds=["Ses01"], runs_dir=root / "runs"),
        registry=registry, features=table, progress=False, command=["serbench", "run"])
    return {"dir": root / "runs" / record["run_id"], "registry": registry, "table": table,
            "manifest": pl.read_csv(csv)}


def test_attention_over_previous_turns_is_labelled_with_their_ids(trained: dict,
                                                                  tmp_path: Path) -> None:
    predictions = pl.read_parquet(trained["dir"] / "predictions.parquet")
    refs = context_lookup(trained["manifest"], predictions["utt_id"].to_list())
    # an utterance with both previous turns (its own and the interlocutor's)
    utt = next(u for u, r in refs.items() if r.prev_self and r.prev_other)
    e = explain_utterance(trained["dir"], utt, registry=trained["registry"],
                          features=trained["table"])
    assert e.model_pred == predictions.filter(pl.col("utt_id") == utt)["pred"].item()
    assert set(e.maps) == {"frames", "context/prev_self", "context/prev_other"}
    for turn in ("prev_self", "prev_other"):
        other, frames = e.context[f"context/{turn}"]
        assert other == getattr(refs[utt], turn)
        weights = e.maps[f"context/{turn}"]
        assert weights.shape == (len(frames),) and abs(weights.sum() - 1) < 1e-5
    fig = dict(figures(e))["context"]
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [f"the speaker's previous turn: {refs[utt].prev_self}",
                      f"the interlocutor's previous turn: {refs[utt].prev_other}"]
    bars = [patch.get_height() for patch in fig.axes[0].patches]
    assert bars == pytest.approx(e.maps["context/prev_self"].tolist())
    files = draw(e, tmp_path)
    assert sorted(f.name for f in files) == ["context.png", "frames.png"]
