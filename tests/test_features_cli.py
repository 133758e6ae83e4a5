"""``serbench features list / extract / info`` on the ``manifest`` corpus."""

from __future__ import annotations

import json

from _feature_wavs import write_wavs
from click.testing import CliRunner

from serbench.cli import cli
from serbench.plugins import reset_registry


def _csv(tmp_path):
    manifest = write_wavs(tmp_path / "wavs", n=4, seconds=0.4)
    manifest = manifest.with_columns(manifest["path"].str.replace(str(tmp_path) + "/", "", literal=True))
    path = tmp_path / "manifest.csv"
    manifest.write_csv(path)
    return path


def test_list_extract_info(tmp_path, serbench_env):
    reset_registry()
    runner = CliRunner()
    listed = runner.invoke(cli, ["features", "list"], catch_exceptions=False)
    assert listed.exit_code == 0
    for name in ("egemaps", "lld17_drn", "st36", "tokens"):
        assert name in listed.output

    csv = _csv(tmp_path)
    where = ["--corpus", "manifest", "--data", str(csv)]
    before = runner.invoke(cli, ["features", "info", "lld17", *where], catch_exceptions=False)
    assert before.exit_code == 0 and "not extracted yet" in before.output

    first = runner.invoke(cli, ["features", "extract", "lld17", *where, "--workers", "1"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "4 utterances, 17 dims" in first.output and "extracted now: 4" in first.output
    second = runner.invoke(cli, ["features", "extract", "lld17", *where], catch_exceptions=False)
    assert "extracted now: 0" in second.output

    info = runner.invoke(cli, ["features", "info", "lld17", *where, "--json"], catch_exceptions=False)
    status = json.loads(info.output)
    assert status["complete"] and status["n_utterances"] == 4 and status["dim"] == 17
    assert status["key"]["backend"]["opensmile"]

    drn = runner.invoke(cli, ["features", "info", "lld17", *where, "--param", "frame_step=0.01"],
                        catch_exceptions=False)
    assert "not extracted yet" in drn.output  # other params, other cache key


def test_list_shows_each_dimension_without_torch():
    import subprocess
    import sys

    code = ("import sys, json; from click.testing import CliRunner; from serbench.cli import cli;"
            "r = CliRunner().invoke(cli, ['features', 'list', '--json'], catch_exceptions=False);"
            "print(json.dumps([json.loads(r.output), 'torch' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rows, torch_imported = json.loads(out.stdout)
    dims = {row["name"]: row["dim"] for row in rows}
    assert dims["lld17"] == 17 and dims["egemaps"] == 88 and dims["is09_lld_de"] == 32
    assert dims["tokens"] is None and not torch_imported
    table = CliRunner().invoke(cli, ["features", "list"], catch_exceptions=False).output
    assert any("lld17" in line and " 17 " in line for line in table.splitlines())


def test_extract_and_info_refuse_an_unknown_param_before_loading_the_corpus(tmp_path, serbench_env):
    reset_registry()
    missing = tmp_path / "absent.csv"  # never read: the parameter is checked first
    for sub in ("extract", "info"):
        result = CliRunner().invoke(cli, ["features", sub, "lld17", "--corpus", "manifest",
                                          "--data", str(missing), "--param", "frame_stp=0.01"])
        assert result.exit_code != 0
        assert "--param" in str(result.exception) and "did you mean 'frame_step'" in str(
            result.exception)
