"""``serbench leaderboard export``: CSV, LaTeX, BibTeX and JSON from a published version.

Reads the repository's published ``synthetic-4class-loso`` (immutable snapshots)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.errors import ConfigError
from serbench.leaderboard.export import export, latex_escape, to_bibtex
from serbench.leaderboard.store import Leaderboard
from serbench.leaderboard.table import row_name

ROOT = Path(__file__).resolve().parents[1] / "leaderboards"
BENCHMARK = "synthetic-4class-loso"


@pytest.fixture(scope="module")
def snapshot():
    return Leaderboard(ROOT, BENCHMARK).snapshot(3)


def test_csv_has_one_row_per_leaderboard_row_in_percent(snapshot):
    rows = list(csv.DictReader(io.StringIO(export(snapshot, "csv"))))
    groups = snapshot["summary"]["groups"]
    assert len(rows) == len(groups)
    first = groups[0]
    assert rows[0]["rank"] == str(first["rank"])
    assert rows[0]["ua_mean"] == f"{100 * first['scores']['ua']['mean']:.1f}"
    assert rows[0]["ua_pooled"] == f"{100 * first['scores']['ua']['pooled']:.1f}"
    assert rows[0]["run_ids"] == " ".join(first["run_ids"])


def test_latex_escapes_specials_and_has_every_row(snapshot):
    assert latex_escape("ar_gru & 50% #1") == r"ar\_gru \& 50\% \#1"
    text = export(snapshot, "latex")
    body = text.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
    assert len(body) == len(snapshot["summary"]["groups"])
    svm = snapshot["summary"]["groups"][0]["scores"]["ua"]
    assert f"{100 * svm['mean']:.1f} $\\pm$ {100 * svm['fold_std']:.1f}" in body[0]
    assert "ar\\_gru" in text and "ar_gru" not in text.replace("ar\\_gru", "")


@pytest.fixture(scope="module")
def marked():
    """v5: rows at chance, predicting one class, and a superseded rlc v1."""
    return Leaderboard(ROOT, BENCHMARK).snapshot(5)


def test_csv_names_marks_budget_and_rounds_timings(marked):
    rows = {r["row"]: r for r in csv.DictReader(io.StringIO(export(marked, "csv")))}
    groups = {row_name(g): g for g in marked["summary"]["groups"]}
    superseded = [r for r in rows.values() if "superseded" in r["flags"].split(";")]
    assert superseded and all(groups[r["row"]].get("superseded_by") for r in superseded)
    one_class = [r for r in rows.values() if "one-class" in r["flags"].split(";")]
    assert len(one_class) == sum("one-class" in (g.get("flags") or ()) for g in groups.values())
    assert {r["chance_ua"] for r in rows.values()} == {"25.0"}
    for name, row in rows.items():
        epochs = groups[name].get("epochs")
        assert row["epochs"] == ("" if epochs is None else str(epochs))
        assert row["epochs_default"] == str(groups[name].get("epochs_default") or "")
        seconds = (groups[name].get("timing") or {}).get("train_seconds_per_epoch")
        if seconds is not None:  # four significant digits, not a 17-digit float
            assert row["train_s_per_epoch"] == f"{seconds:.4g}"


def test_latex_marks_rows_and_says_once_what_marks_mean(marked):
    text = export(marked, "latex")
    body = text.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
    for line, group in zip(body, marked["summary"]["groups"], strict=True):
        flags = set(group.get("flags") or ()) | ({"superseded"} if group.get("superseded_by")
                                                  else set())
        assert (r"$^{\dagger}$" in line) == ("one-class" in flags), line
        assert (r"$^{\circ}$" in line) == ("chance" in flags), line
        assert (r"$^{\ddagger}$" in line) == ("superseded" in flags), line
        budget = "--" if group.get("epochs") is None else str(group["epochs"]) + (
            f" of {group['epochs_default']}" if group.get("epochs_default") else "")
        assert f"& {budget} & {len(group['seeds'])} &" in line
    legend = text.split(r"\end{tabular}")[1]
    assert "Chance: 25.0\\% UA." in legend
    assert legend.count(r"$^{\dagger}$ predicts a single class") == 1
    assert r"$^{\ddagger}$ superseded" in legend


def test_bibtex_one_entry_per_citation_with_its_doi():
    snap = {"summary": {"groups": [
        {"model": "m1", "citation": "A. B, Title, ICASSP 2019, doi:10.1109/X.2019.1."},
        {"model": "m1_al", "citation": "A. B, Title, ICASSP 2019, doi:10.1109/X.2019.1."},
        {"model": "m2", "citation": "C. D, Other, 2019"},
        {"model": "m2", "citation": "C. D, Another, 2019"},
        {"model": "svm", "citation": None},
    ]}}
    text = to_bibtex(snap)
    assert text.count("@misc{") == 3
    assert "@misc{m12019," in text and "doi = {10.1109/X.2019.1}" in text
    assert "@misc{m22019," in text and "@misc{m22019b," in text
    assert "% no citation" in text and "svm" in text


def test_json_rows_are_the_summary_rows(snapshot):
    doc = json.loads(export(snapshot, "json"))
    assert doc["version"] == 3 and doc["rows"][0]["model"] == "svm"


def test_unknown_format_is_refused(snapshot):
    with pytest.raises(ConfigError, match="choose one of csv, latex, bibtex, json"):
        export(snapshot, "xlsx")


def test_cli_writes_the_file(tmp_path):
    out = tmp_path / "table.tex"
    result = CliRunner().invoke(cli, ["leaderboard", "export", BENCHMARK, "--root", str(ROOT),
                                      "--format", "latex", "--version", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("% requires \\usepackage{booktabs}")
