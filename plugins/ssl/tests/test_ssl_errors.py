"""Where the model comes from: bad input stops before any audio is read, saying what to do;
a hub id already in the hub cache is used offline, keyed by its commit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _ssl_tiny import save_tiny
from click.testing import CliRunner
from serbench.errors import ConfigError

from serbench_ssl.extractor import build


@pytest.fixture(scope="module")
def wavlm(tmp_path_factory) -> Path:
    return save_tiny(tmp_path_factory.mktemp("wavlm") / "wavlm", "wavlm")


def test_no_model_says_how_to_name_one() -> None:
    with pytest.raises(ConfigError, match=r"needs --feature-param model=.*microsoft/wavlm-base-plus"):
        build({})


def test_a_missing_folder_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"no such folder .*nowhere"):
        build({"model": str(tmp_path / "nowhere")})


def test_a_folder_without_config_json_names_it(wavlm, tmp_path) -> None:
    folder = shutil.copytree(wavlm, tmp_path / "broken")
    (folder / "config.json").unlink()
    with pytest.raises(ConfigError, match=r"broken has no config\.json"):
        build({"model": str(folder)})


def test_a_folder_without_weights_names_them(wavlm, tmp_path) -> None:
    folder = shutil.copytree(wavlm, tmp_path / "noweights")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match=r"has no weights \(none of model\.safetensors"):
        build({"model": str(folder)})


def test_an_unsupported_model_type_is_named(wavlm, tmp_path) -> None:
    folder = shutil.copytree(wavlm, tmp_path / "bert")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    with pytest.raises(ConfigError, match=r"model_type 'bert'; the ssl feature reads wavlm"):
        build({"model": str(folder)})


def test_whisper_without_its_preprocessor_config_names_it(tmp_path) -> None:
    folder = save_tiny(tmp_path / "whisper", "whisper", preprocessor=False)
    with pytest.raises(ConfigError, match=r"no preprocessor_config\.json"):
        build({"model": str(folder), "chunk_seconds": 1.0, "overlap_seconds": 0.2})


def test_a_hub_id_that_cannot_be_fetched_says_how_to_use_a_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    import huggingface_hub.constants as hub

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    with pytest.raises(ConfigError) as err:
        build({"model": "microsoft/wavlm-base-plus"})
    text = str(err.value)
    assert "cannot be fetched from the Hugging Face Hub" in text
    assert "--local-dir DIR" in text and "--feature-param model=DIR" in text


@pytest.mark.parametrize(("params", "message"), [
    ({"layer": 3}, r"layer=3: expected an integer from 0 .* to 2"),
    ({"layer": "middle"}, r"layer='middle'"),
    ({"pool": "max"}, r"pool='max': expected one of none, mean"),
    ({"device": "tpu"}, r"device='tpu'"),
    ({"overlap_seconds": 0.0}, r"overlap_seconds=0.0 must be at least 0.04 s"),
    ({"chunk_seconds": 1.5, "overlap_seconds": 1.0}, r"more than twice overlap_seconds"),
])
def test_bad_parameters_are_named(wavlm, params, message) -> None:
    with pytest.raises(ConfigError, match=message):
        build({"model": str(wavlm), **params})


def test_the_cli_reports_a_bad_folder_before_extracting(tmp_path, monkeypatch) -> None:
    from serbench.cli import cli
    from serbench.testing.corpora import write_tiny_corpus

    for var in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"SERBENCH_{var}", str(tmp_path / var.lower()))
    csv = write_tiny_corpus(tmp_path / "tiny", speakers=2, per_speaker=4)
    result = CliRunner().invoke(cli, ["features", "extract", "ssl", "--corpus", "manifest",
                                      "--data", str(csv), "--param",
                                      f"model={tmp_path / 'nowhere'}"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)  # printed without a traceback by main()
    assert "no such folder" in str(result.exception)
    assert not (tmp_path / "cache" / "features").exists() or not any(
        (tmp_path / "cache" / "features").rglob("*.npy"))


def _fake_hub_cache(cache: Path, repo: str, commit: str, seed: int) -> None:
    """``repo`` at ``commit`` as huggingface_hub's cache lays it out (refs/main -> commit)."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    save_tiny(folder / "snapshots" / commit, "wavlm", seed=seed)
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(commit)


def test_a_hub_id_in_the_hub_cache_is_used_offline_and_keyed_by_its_commit(tmp_path, monkeypatch) -> None:
    import huggingface_hub.constants as hub
    import numpy as np

    cache = tmp_path / "hub-cache"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(cache))
    _fake_hub_cache(cache, "tiny/wavlm", "a" * 40, seed=0)
    first = build({"model": "tiny/wavlm"})
    assert first.backend["commit"] == "a" * 40 and "weights_sha256" not in first.backend
    assert first(np.zeros(16000, np.float32) + 0.1, 16000).shape == (49, 16)  # weights from the cache
    _fake_hub_cache(cache, "tiny/wavlm", "b" * 40, seed=1)  # main moved to a new commit
    assert build({"model": "tiny/wavlm"}).backend["commit"] == "b" * 40
    assert build({"model": "tiny/wavlm", "revision": "a" * 40}).backend["commit"] == "a" * 40
