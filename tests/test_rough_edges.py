"""Issue 21's catalogue and rough edges: label maps without data, shell completion,
``run --json``, ``leaderboard add`` over non-run folders, the default normalisation."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from serbench.cli import cli
from serbench.errors import ConfigError


def test_label_maps_are_shown_without_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("SERBENCH_DATA", str(tmp_path / "empty"))  # no IEMOCAP anywhere
    result = CliRunner().invoke(cli, ["corpus", "info", "iemocap", "--label-maps", "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    maps = {m["name"]: m for m in json.loads(result.output)["label_maps"]}
    assert maps["4class"]["mapping"]["exc"] == "happy"  # the merge IEMOCAP papers use
    assert "exc" not in maps["4class-nomerge"]["mapping"]
    assert maps["4class-improvised"]["where"]
    table = CliRunner().invoke(cli, ["corpus", "info", "synthetic", "--label-maps"],
                               catch_exceptions=False).output
    assert "label map 4class (default)" in table
    assert any("excited" in line and "happy" in line for line in table.splitlines())


def test_label_maps_of_a_data_defined_corpus_say_what_to_do():
    from serbench.cli.corpus_cmd import label_maps_summary

    with pytest.raises(ConfigError, match="--label-maps: corpus 'manifest' builds its label"):
        label_maps_summary("manifest")


def _complete(args: list[str], incomplete: str) -> list[str]:
    from click.shell_completion import ShellComplete

    completer = ShellComplete(cli, {}, "serbench", "_SERBENCH_COMPLETE")
    return [item.value for item in completer.get_completions(args, incomplete)]


def test_shell_completion_names_registered_components_without_torch():
    import subprocess
    import sys

    assert _complete(["run", "--model"], "ar_") == ["ar_gru"]
    assert "ar_gru_iv" in _complete(["run", "--model", "ar_gru", "--variant"], "")
    assert _complete(["run", "--variant"], "") == []  # no model yet: nothing to offer
    assert "dense_lstm" in _complete(["models"], "d")
    assert _complete(["tune", "-m", "rlc", "--corpus"], "iem") == ["iemocap"]
    assert "lld17" in _complete(["features", "extract"], "lld")
    assert "loso-speaker" in _complete(["run", "-m", "rlc", "--protocol"], "loso")
    assert _complete(["corpus", "info"], "synth") == ["synthetic"]
    assert _complete(["run", "-m", "rlc", "--corpus", "iemocap", "--label-map"], "4class-i") == [
        "4class-improvised"]
    assert "5class" in _complete(["run", "-m", "rlc", "--label-map"], "")  # synthetic's
    # through the installed entry point, as the shell calls it
    env = {"_SERBENCH_COMPLETE": "bash_complete", "COMP_WORDS": "serbench models dr",
           "COMP_CWORD": "2"}
    code = ("import sys, runpy; sys.argv = ['serbench'];"
            "from serbench.cli import main\ntry:\n main()\nexcept SystemExit: pass\n"
            "print('torch' in sys.modules)")
    import os

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env}, check=True).stdout.split()
    assert out == ["plain,drn", "False"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory):
    from serbench.testing.corpora import write_tiny_corpus

    return write_tiny_corpus(tmp_path_factory.mktemp("tiny"), speakers=3, per_speaker=4)


def test_run_json_prints_the_summary_alone_on_stdout(env, tiny_csv):
    args = ["run", "--model", "svm", "--corpus", "manifest", "--data", str(tiny_csv),
            "--protocol", "loso-speaker", "-q", "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # nothing else on stdout
    folder = env / "runs" / summary["run_id"]
    record = json.loads((folder / "record.json").read_text())
    assert summary["folder"] == str(folder) and summary["status"] == "complete"
    assert summary["pooled"]["ua"] == record["aggregate"]["pooled"]["ua"]
    assert summary["mean"]["macro_f1"] == record["aggregate"]["mean"]["macro_f1"]
    assert summary["folds"] == {f["name"]: f["metrics"]["ua"] for f in record["folds"]}
    assert set(summary["folds"]) == {"spk01", "spk02", "spk03"}
    assert summary["timing"]["clock"] == record["timing"]["clock"]
    assert "UA" in result.stderr  # the human tables went to stderr
    assert "--json" not in record["command"]  # an output format, not part of the setup


def test_output_to_a_pipe_uses_the_wide_layout(monkeypatch):
    monkeypatch.delenv("SERBENCH_WIDTH", raising=False)
    for args in (["plugins"], ["features", "list"]):
        out = CliRunner().invoke(cli, args, catch_exceptions=False).output  # not a terminal
        assert max(len(line) for line in out.splitlines()) > 100, args
