"""``serbench plugins`` and ``serbench corpus info``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.plugins import reset_registry
from serbench.testing.corpora import write_tiny_corpus


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    for var in ("SERBENCH_DATA", "SERBENCH_CACHE", "SERBENCH_RUNS"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    reset_registry()
    yield
    reset_registry()


def test_plugins_lists_builtins_with_distribution_and_registrations():
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    plugins = {p["name"]: p for p in listing["plugins"]}
    assert plugins["protocols"]["distribution"] == "serbench"
    assert plugins["protocols"]["version"]
    assert "loso-speaker" in plugins["protocols"]["registers"]["protocol"]
    assert "ua" in plugins["metrics"]["registers"]["metric"]
    assert "manifest" in plugins["corpora"]["registers"]["corpus"]
    names = {(c["kind"], c["name"]) for c in listing["components"]}
    assert ("metric", "macro_f1") in names
    table = CliRunner().invoke(cli, ["plugins", "-v"])
    assert table.exit_code == 0 and "loso-speaker" in table.output
    assert "protocols" in table.output and "description" in table.output


def test_plugins_does_not_import_torch():
    code = (
        "import sys\n"
        "from serbench.cli import main\n"
        "main(['plugins'])\n"
        "print('TORCH', 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "protocols" in done.stdout
    assert "TORCH False" in done.stdout


def test_plugins_honours_disable_env(monkeypatch):
    monkeypatch.setenv("SERBENCH_DISABLE_PLUGINS", "metrics")
    listing = json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).output)
    assert "metrics" not in {p["name"] for p in listing["plugins"]}


def test_corpus_info_counts_and_folds(tmp_path):
    csv_path = write_tiny_corpus(tmp_path / "tiny")
    result = CliRunner().invoke(cli, [
        "corpus", "info", "manifest", "--data", str(csv_path), "--protocol", "loso", "--json",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["n_utterances"] == 48 and summary["n_speakers"] == 4
    assert {row["label"]: row["n"] for row in summary["labels"]} == {
        "angry": 12, "happy": 12, "neutral": 12, "sad": 12}
    assert [row["session"] for row in summary["sessions"]] == ["Ses01", "Ses02"]
    assert all(row["n"] == 12 and row["angry"] == 3 for row in summary["speakers"])
    assert [f["name"] for f in summary["folds"]] == ["Ses01", "Ses02"]
    assert summary["folds"][0]["test_speakers"] == ["spk01", "spk02"]
    assert summary["speaker_independent"] is True and len(summary["split_hash"]) == 16
    table = CliRunner().invoke(cli, [
        "corpus", "info", "manifest", "--data", str(csv_path),
        "--corpus-option", "map=angry:high,happy:high,sad:low", "--label-map", "custom",
        # the map leaves 'neutral' out: an error unless its rows are dropped explicitly
        "--corpus-option", "drop_unknown_labels=true",
        "--protocol", "kfold", "--protocol-option", "k=3",
    ])
    assert table.exit_code == 0, table.output
    assert "36 utterances" in table.output and "fold3" in table.output
    assert "not speaker-independent" in table.output  # the fold note is shown


def test_corpus_info_errors_name_the_cause(tmp_path):
    from serbench.cli import main

    csv_path = write_tiny_corpus(tmp_path / "tiny", speakers=2, per_speaker=4)
    with pytest.raises(SystemExit) as info:
        main(["corpus", "info", "manifest", "--data", str(tmp_path / "missing.csv")])
    assert info.value.code == 2
    result = CliRunner().invoke(cli, ["corpus", "info", "manifest", "--data", str(csv_path),
                                      "--protocol", "losso"])
    assert "Did you mean 'loso'" in str(result.exception)
    result = CliRunner().invoke(cli, ["corpus", "info", "manifest", "--data", str(csv_path),
                                      "--corpus-option", "oops"])
    assert "KEY=VALUE" in str(result.exception)


def test_corpus_group_is_extensible():
    import click

    from serbench.cli import corpus_cmd

    @click.command("hello")
    def hello() -> None:
        click.echo("hi from an added sub-command")

    corpus_cmd.corpus.add_command(hello)
    try:
        result = CliRunner().invoke(cli, ["corpus", "hello"])
        assert result.output.strip() == "hi from an added sub-command"
        assert "hello" in CliRunner().invoke(cli, ["corpus", "--help"]).output
    finally:
        corpus_cmd.corpus.commands.pop("hello")
    # or lazily, imported only when invoked
    corpus_cmd.SUBCOMMANDS["lazy-hello"] = "serbench.cli.plugins_cmd:command"
    try:
        assert "lazy-hello" in CliRunner().invoke(cli, ["corpus", "--help"]).output
        result = CliRunner().invoke(cli, ["corpus", "lazy-hello", "--json"])
        assert result.exit_code == 0 and '"plugins"' in result.output
    finally:
        corpus_cmd.SUBCOMMANDS.pop("lazy-hello")
