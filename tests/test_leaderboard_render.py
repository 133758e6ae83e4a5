"""Leaderboard rendering (terminal, Markdown, HTML) and the `serbench leaderboard` CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _leaderboard_records import write_run
from click.testing import CliRunner
from rich.console import Console

from serbench.cli import cli
from serbench.leaderboard.charts import Point, scatter_svg
from serbench.leaderboard.render_html import render_html
from serbench.leaderboard.render_markdown import render_markdown
from serbench.leaderboard.render_terminal import print_leaderboard
from serbench.leaderboard.store import Leaderboard, add_runs

BENCH = "synthetic-4class-loso-speaker"


@pytest.fixture()
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Leaderboard:
    for name in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{name}", str(tmp_path / name.lower()))
    runs = tmp_path / "runs"
    paths = [write_run(runs, model="bilstm_att", seed=s, skill=0.85, latency_ms=3.0,
                       n_parameters=120_000) for s in range(2)]
    paths += [write_run(runs, model="svm", seed=s, skill=0.3, latency_ms=0.2,
                        n_parameters=400) for s in range(2)]
    paths.append(write_run(runs, model="ar_gru", variant="no_arelu", seed=0, skill=0.6,
                           latency_ms=9.0, n_parameters=2_000_000, predictions=False))
    add_runs(paths, tmp_path / "lb")
    return Leaderboard(tmp_path / "lb", BENCH)


def test_terminal_table_shows_rows_timing_and_significance(board: Leaderboard) -> None:
    console = Console(record=True, width=220)
    print_leaderboard(board.current(), console)
    text = console.export_text()
    assert re.search(r"1 │ bilstm_att v1 .*best", text)
    assert re.search(r"svm .*p=0\.\d+\*", text)  # significantly worse than the best
    assert "ar_gru/no_arelu" in text and "120.0k" in text and "2.0M" in text
    assert "All rows: Features: egemaps (speaker); Device: Test CPU; Clock: CPU clock" in text


def test_markdown_table_has_one_row_per_configuration(board: Leaderboard) -> None:
    md = render_markdown(board.current())
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 3  # header + configurations (seeds grouped)
    assert "Latency ms/utt" in table[0] and "Epochs" in table[0]
    assert "Clock" not in table[0] and "- All rows: Features: egemaps (speaker); " in md
    assert "| 1 | bilstm_att v1 |" in md and "## Configurations" in md
    assert "`svm-synthetic-loso-speaker-s1-" in md


def test_html_is_self_contained_with_sortable_table_charts_and_details(
        board: Leaderboard) -> None:
    html = render_html(board.current())
    assert html.startswith("<!doctype html>")
    assert not re.search(r"""src=["']?(https?:)?//""", html)  # no CDN, no remote asset
    assert "<link" not in html and "@import" not in html
    assert "<style>" in html and "<script>" in html and "sortBy" in html
    # device, clock and features are the same on every row: said once, above the table
    assert html.count('<th scope="col"') == 15 and html.count('<tr id="row-') == 3
    assert "<dt>Clock</dt><dd>CPU clock</dd>" in html
    assert 'data-type="number"' in html and 'data-type="text"' in html
    for chart in ("chart-latency", "chart-params"):
        svg = re.search(rf'<svg id="{chart}".*?</svg>', html).group(0)
        assert svg.count("<circle") == 3
    assert html.count("<details id=\"entry-") == 3
    assert "speaker bootstrap" in html and "bootstrap over fold scores" in html


def test_charts_handle_missing_and_degenerate_data() -> None:
    assert "no entry has this measurement" in scatter_svg(
        [], title="t", x_label="x", y_label="y", chart_id="c")
    one = scatter_svg([Point("m", 5.0, 50.0)], title="t", x_label="x", y_label="y",
                      chart_id="c")
    assert one.count("<circle") == 1 and "nan" not in one
    skipped = scatter_svg([Point("m", 0.0, 50.0), Point("n", 2.0, 60.0)], title="t",
                          x_label="x", y_label="y", chart_id="c")
    assert skipped.count("<circle") == 1  # a log axis cannot show 0


def test_cli_add_show_publish_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERBENCH_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(tmp_path)
    one = write_run(tmp_path / "runs", model="bilstm_att", seed=0, skill=0.8)
    two = write_run(tmp_path / "runs", model="svm", seed=0, skill=0.4)
    runner = CliRunner()
    result = runner.invoke(cli, ["leaderboard", "add", str(one), str(two / "record.json")])
    assert result.exit_code == 0, result.output
    assert result.output.count("added to " + BENCH) == 2
    assert (tmp_path / "leaderboards" / BENCH / "entries").is_dir()  # default --root
    again = runner.invoke(cli, ["leaderboard", "add", one.name])
    assert "already on" in again.output
    shown = runner.invoke(cli, ["leaderboard", "show", BENCH], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "bilstm_att" in shown.output and "svm" in shown.output
    published = runner.invoke(cli, ["leaderboard", "publish", BENCH, "--note", "first"])
    assert published.exit_code == 0 and "v1.html" in published.output
    listed = runner.invoke(cli, ["leaderboard", "list"])
    assert f"{BENCH}: 2 entries, v1 latest of 1" in listed.output
    md = runner.invoke(cli, ["leaderboard", "show", BENCH, "--version", "1",
                             "--format", "markdown"])
    assert "(v1, published" in md.output
    missing = runner.invoke(cli, ["leaderboard", "show", "nope"])
    assert missing.exit_code != 0 and "no leaderboard 'nope'" in str(missing.exception)
