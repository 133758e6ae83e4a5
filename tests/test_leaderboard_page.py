"""What the leaderboard page shows beyond the scores: whole labels, marks for rows at
chance / predicting one class / superseded, per-class recall, links, the paper's number,
the chance line, the Pareto front and labels that do not overlap."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _leaderboard_records import make_record, write_run
from rich.console import Console

from serbench.components import PaperResult
from serbench.leaderboard import diagnostics, paper
from serbench.leaderboard.charts import Point, _text_box, pareto_front, place_labels, scatter_svg
from serbench.leaderboard.html_details import linkify
from serbench.leaderboard.render_html import render_html
from serbench.leaderboard.render_markdown import render_markdown
from serbench.leaderboard.render_terminal import print_leaderboard
from serbench.leaderboard.store import Leaderboard, add_runs
from serbench.leaderboard.table import row_name

BENCH = "synthetic-4class-loso-speaker"
LONG_A = {"batch_size": 8, "branch_units": 64, "fc_units": 64, "hidden_size": 32,
          "lr": 0.0031234567891234, "max_epochs": 15}
LONG_B = {"batch_size": 32, "branch_units": 256, "fc_units": 256, "hidden_size": 128,
          "lr": 0.001, "max_epochs": 4}


def _write(runs: Path, change: Callable[[dict[str, Any]], None] | None = None,
           constant: str | None = None, **kwargs: Any) -> Path:
    """A run folder; ``change`` edits the record, ``constant`` makes every prediction
    that class (and the record's UA chance level, as such a run would report)."""
    record, frame = make_record(**kwargs)
    if constant is not None:
        frame = frame.with_columns(frame["label"].set(frame["label"].is_not_null(), constant)
                                   .alias("pred"))
        for fold in record["folds"]:
            fold["metrics"]["ua"] = 0.25
        record["aggregate"]["mean"]["ua"], record["aggregate"]["std"]["ua"] = 0.25, 0.0
        record["aggregate"]["pooled"]["ua"] = 0.25
    if change is not None:
        change(record)
    folder = runs / (record["run_id"] + ("-c" if constant else ""))
    record["run_id"] = folder.name
    folder.mkdir(parents=True)
    (folder / "record.json").write_text(json.dumps(record), encoding="utf-8")
    frame.write_parquet(folder / "predictions.parquet")
    return folder


@pytest.fixture()
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Leaderboard:
    """One seed each (4 folds: no paired test can reach 0.05), two a_lstm rows with long
    differing hyperparameters, a constant predictor rlc v1 superseded by rlc v2."""
    monkeypatch.setenv("SERBENCH_RUNS", str(tmp_path / "runs"))
    runs = tmp_path / "runs"

    def v2(record: dict[str, Any]) -> None:
        record["model"]["version"] = 2
        record["model"]["citation"] = ("A. Author, \"Title\", IJCAI 2019, "
                                       "doi:10.24963/ijcai.2019/703. Code: github.com/o/r.")

    paths = [write_run(runs, model="bilstm_att", skill=0.85, latency_ms=3.0,
                       n_parameters=120_000),
             write_run(runs, model="a_lstm", skill=0.6, hyperparameters=LONG_A),
             write_run(runs, model="a_lstm", skill=0.5, hyperparameters=LONG_B,
                       latency_ms=5.0),
             _write(runs, model="rlc", skill=0.3, constant="angry", latency_ms=7.0),
             _write(runs, v2, model="rlc", skill=0.55, latency_ms=8.0)]
    add_runs(paths, tmp_path / "lb")
    return Leaderboard(tmp_path / "lb", BENCH)


def _group(summary: dict[str, Any], label: str, version: int = 1) -> dict[str, Any]:
    return next(g for g in summary["groups"]
                if g["label"] == label and g["model_version"] == version and
                (label != "a_lstm" or g["hyperparameters"]["hidden_size"] == 128))


def test_same_named_rows_show_every_differing_field_rounded(board: Leaderboard) -> None:
    summary = board.current()["summary"]
    names = [row_name(g) for g in summary["groups"] if g["label"] == "a_lstm"]
    assert any("hidden_size=128" in n and "max_epochs=4" in n for n in names), names
    assert any("lr=0.003123" in n for n in names) and not any("0.00312345" in n for n in names)
    assert not any("study" in n for n in names)  # untuned rows leak no "study=None"
    assert sorted(g["tag"] for g in summary["groups"] if g["label"] == "a_lstm") == ["a", "b"]
    html = render_html(board.current())
    assert re.search(r'class="cfg">[^<]*hidden_size=128', html)
    assert [g["epochs"] for g in summary["groups"] if g["label"] == "a_lstm"] in ([15, 4],
                                                                                 [4, 15])


def test_constant_predictor_at_chance_and_superseded_rows_are_marked(board: Leaderboard) -> None:
    snap = board.current()
    summary = snap["summary"]
    old, new = _group(summary, "rlc", 1), _group(summary, "rlc", 2)
    assert old["flags"] == ["one-class", "chance"] and old["superseded_by"] == 2
    assert new["flags"] == [] and new["superseded_by"] is None
    assert old["per_class_recall"] == {"angry": 1.0, "happy": 0.0, "neutral": 0.0, "sad": 0.0}
    assert summary["chance"] == 0.25
    md = render_markdown(snap)
    assert "rlc v1 †○‡" in md and "† predicts a single class" in md
    assert "recall per class (%, all test utterances): angry 100.0, happy 0.0" in md
    html = render_html(snap)
    assert 'class="badge one-class"' in html and "superseded by v2" in html
    assert html.count('class="chance"') == 2  # the dashed line on both charts
    assert '<a href="https://doi.org/10.24963/ijcai.2019/703"' in html
    assert "Recall per class over all test utterances" in html


def test_vs_best_column_only_where_a_test_can_be_significant(board: Leaderboard) -> None:
    summary = board.current()["summary"]
    assert summary["testable"] is False and summary["pairs_needed"] == 6
    md = render_markdown(board.current())
    assert "vs best" not in md.splitlines()[md.splitlines().index("") + 1:][1]
    assert "it needs 6 fold x seed pairs, e.g. 2 seeds per configuration" in md


@pytest.mark.parametrize("width", [80, 160])
def test_terminal_fits_its_width_without_cutting_scores(board: Leaderboard, width: int) -> None:
    console = Console(record=True, width=width)
    print_leaderboard(board.current(), console)
    text = console.export_text()
    table = [line for line in text.splitlines() if line.startswith(("│", "┃"))]
    assert "…" not in text and all(len(line) <= width for line in text.splitlines())
    body = [line for line in table if line.startswith("│")]
    assert len(body) == 5  # one line per row: nothing wrapped onto a second line
    assert all(re.search(r"\d+\.\d ± \d+\.\d", line) for line in body)
    flat = " ".join(text.split())
    assert "a_lstm v1 [b]: batch_size=32, branch_units=256" in flat
    assert "hidden_size=128" in flat and "All rows:" in flat
    if width == 80:
        assert "Left out at this width:" in flat
    else:
        assert "F1 (macro) %" in text


def test_pareto_front_and_labels_that_do_not_overlap() -> None:
    pts = [Point("fast", 1.0, 40.0), Point("slow-good", 10.0, 60.0), Point("dominated", 5.0, 30.0),
           Point("best", 20.0, 70.0), Point("same-x-worse", 10.0, 50.0)]
    assert [p.label for p in pareto_front(pts)] == ["fast", "slow-good", "best"]
    # twelve points in a 90 x 12 px cluster, as in a chart where most rows score alike
    crowd = [(100 + 8 * i, 100 + 6 * (i % 3), Point(f"model_{i}/variant v1", 1.0, 50.0 - i,
                                                    tag=str(i)))
             for i in range(12)]
    placed = place_labels(crowd, (0, 0, 560, 380))
    boxes = [_text_box(x, y, text, anchor) for x, y, anchor, text in filter(None, placed)]
    assert len(boxes) >= 8  # most points keep a label (full or rank)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
        for x, y, _ in crowd:
            assert not (a[0] < x + 6 and x - 6 < a[2] and a[1] < y + 6 and y - 6 < a[3])
    svg = scatter_svg(pts, title="t", x_label="x", y_label="y", chart_id="c", chance=25.0)
    assert 'class="chance"' in svg and "chance 25%" in svg and 'class="pareto"' in svg
    assert svg.count("pareto-point") == 3


def test_citation_links_and_chance_tolerance() -> None:
    html = linkify('X, "T & U", ICASSP 2018, doi:10.1109/ICASSP.2018.8461750. '
                   "Code: github.com/thuhcsi/IJCAI2019-DRL4SER")
    assert 'href="https://doi.org/10.1109/ICASSP.2018.8461750"' in html
    assert 'href="https://github.com/thuhcsi/IJCAI2019-DRL4SER"' in html
    assert "T &amp; U" in html and "8461750</a>." in html
    assert diagnostics.flags([], 0.259, 0.25) == ["chance"]
    assert diagnostics.flags([], 0.261, 0.25) == []
    assert diagnostics.pairs_needed(0.05) == 6  # 2/2^5 = 0.0625 > 0.05 >= 2/2^6


def test_paper_number_only_where_corpus_and_label_map_match(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = SimpleNamespace(paper_results=(PaperResult("s3", "iemocap", {"ua": 66.9},
                                                      label="Table 2 S3"),),
                           preferred={"label_map": "4class"})
    monkeypatch.setattr(paper, "_spec", lambda name: spec)
    group = {"model": "drn", "variant": "s3"}
    assert paper.reported(group, corpus="iemocap", label_map="4class", metric="ua") == {
        "value": pytest.approx(0.669), "label": "Table 2 S3"}
    assert paper.reported(group, corpus="synthetic", label_map="4class", metric="ua") is None
    assert paper.reported(group, corpus="iemocap", label_map="6class", metric="ua") is None
    assert paper.reported({"model": "drn", "variant": "s4"}, corpus="iemocap",
                          label_map="4class", metric="ua") is None


def test_one_class_needs_every_speaker_one_class_right_and_the_rest_wrong() -> None:
    def entry(*clusters: tuple[list[int], list[int]]) -> dict[str, Any]:
        return {"counts": {"by": "speaker", "classes": ["a", "b", "c"], "clusters": {
            f"s{i}": {"correct": k, "n": n} for i, (k, n) in enumerate(clusters)}}}

    constant = entry(([5, 0, 0], [5, 4, 3]), ([0, 0, 6], [2, 2, 6]), ([3, 0, 0], [3, 0, 0]))
    assert diagnostics.predicts_one_class([constant])  # a constant class per speaker
    assert not diagnostics.predicts_one_class([entry(([5, 2, 0], [5, 4, 3]))])
    assert not diagnostics.predicts_one_class([entry(([5, 0, 0], [5, 4, 3]),
                                                     ([1, 1, 6], [2, 2, 6]))])
    assert not diagnostics.predicts_one_class([entry(([3, 0, 0], [3, 0, 0]))])  # nothing to judge
    assert not diagnostics.predicts_one_class([{"counts": None}])
    assert diagnostics.per_class_recall([constant]) == {"a": 8 / 10, "b": 0.0, "c": 6 / 9}


def test_paper_column_beside_the_measured_score_when_a_row_matches(
        board: Leaderboard, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = {"bilstm_att": SimpleNamespace(
        paper_results=(PaperResult("bilstm_att", "synthetic", {"ua": 58.8}, label="Table 1"),),
        preferred={})}
    monkeypatch.setattr(paper, "_spec", lambda name: specs.get(name))
    snap = board.current()
    md = render_markdown(snap)
    header = next(line for line in md.splitlines() if line.startswith("| # |"))
    assert header.startswith("| # | Model | UA % (mean ± std over folds) | Paper UA % |")
    assert re.search(r"\| 1 \| bilstm_att v1 \| [\d.]+ ± [\d.]+ \| 58\.8 \|", md)
    assert "the paper reports 58.8 (Table 1)" in md
    assert "Paper reports</dt><dd>UA 58.8 (Table 1); measured here" in render_html(snap)
    monkeypatch.setattr(paper, "_spec", lambda name: None)
    assert "Paper UA" not in render_markdown(board.current())


def test_confusion_matrix_counts_each_true_and_predicted_pair(tmp_path: Path) -> None:
    """The entry's pooled confusion matrix equals a hand count of the predictions, a group
    sums its seeds, and the HTML details show it."""
    record, frame = make_record(model="bilstm_att", skill=0.6)
    classes = list(record["corpus"]["classes"])
    by_hand = [[0] * len(classes) for _ in classes]
    for label, pred in zip(frame["label"], frame["pred"], strict=True):
        by_hand[classes.index(label)][classes.index(pred)] += 1
    assert any(by_hand[i][j] for i in range(4) for j in range(4) if i != j)  # not diagonal
    runs = tmp_path / "runs"
    paths = [write_run(runs, model="bilstm_att", skill=0.6, seed=s) for s in (0, 1)]
    add_runs(paths, tmp_path / "lb")
    board = Leaderboard(tmp_path / "lb", BENCH)
    entries = sorted(board.entries(), key=lambda e: e["seed"])
    assert entries[0]["confusion"] == {"classes": classes, "matrix": by_hand}
    group = board.current()["summary"]["groups"][0]
    summed = [[a + b for a, b in zip(r0, r1, strict=True)] for r0, r1 in
              zip(entries[0]["confusion"]["matrix"], entries[1]["confusion"]["matrix"],
                  strict=True)]
    assert group["confusion"]["matrix"] == summed
    html = render_html(board.current())
    assert 'class="confusion"' in html and f">{summed[0][0]}<" in html
    assert diagnostics.confusion([entries[0], {"confusion": None}]) is None


def test_a_row_trained_below_its_models_budget_says_so(board: Leaderboard) -> None:
    # the installed a_lstm v1 trains for 100 epochs; the fixture's rows ran 15 and 4
    from serbench.plugins import get_registry

    default = get_registry().model("a_lstm").defaults["max_epochs"]
    assert default == 100
    summary = board.current()["summary"]
    budgets = sorted((g["epochs"], g["epochs_default"]) for g in summary["groups"]
                     if g["label"] == "a_lstm")
    assert budgets == [(4, 100), (15, 100)]
    assert all(g["epochs_default"] is None for g in summary["groups"]
               if g["label"] != "a_lstm")  # at their budget, or no such model at v2
    text = render_markdown(board.current())
    assert "| 4 of 100 |" in text and "| 15 of 100 |" in text
    assert "Epochs 'N of M': a reduced budget" in text
    assert diagnostics.default_epoch_budget("a_lstm", None, version=2) is None
    assert diagnostics.default_epoch_budget("no_such_model", None, version=1) is None
