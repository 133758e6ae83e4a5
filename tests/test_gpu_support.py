"""The CPU-testable parts of the GPU suite and its prepared run (docs/gpu.md): which cases
the suite enumerates, which leaderboard entries the timing runs repeat, the polars
repacking, and SERBENCH_AUDIO_CHECK=0 for a machine that holds no audio."""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from serbench.errors import ManifestError
from serbench.plugins import get_registry
from serbench.run.config import RunConfig
from serbench.run.resolve import resolve_run
from serbench.testing.corpora import write_tiny_corpus

sys.path.insert(0, str(Path(__file__).parent / "gpu"))
import _gpu  # noqa: E402
import prepare_carry  # noqa: E402
import timing_runs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_code_path_variants_merge_numeric_variants_only() -> None:
    spec = SimpleNamespace(
        defaults={"activation": "tanh", "alpha": 0.5, "fc_layers": 0, "sizes": [32, 64]},
        default_variant="b",
        variants={"a": {"alpha": 0.1}, "b": {"alpha": 0.2}, "c": {"activation": "relu"},
                  "d": {"fc_layers": 2}, "e": {"fc_layers": 3}, "f": {"sizes": [16, 16]},
                  "g": {"sizes": [16, 16, 16]}},
    )
    # a, b share a path (alpha); d and e too (a non-zero count); f keeps the list's shape
    assert _gpu.code_path_variants(spec) == ["b", "c", "d", "g"]


def test_suite_cases_cover_every_torch_model_and_its_code_paths() -> None:
    registry = get_registry()
    cases = _gpu.suite_cases(registry)
    torch_models = {n for n in registry.names("model") if registry.model(n).framework == "torch"}
    assert {m for m, _ in cases} == torch_models and "svm" not in torch_models
    for case in [("ar_gru", "iaan"), ("ar_gru", "r_gru"), ("ar_gru", "ar_gru_v"),
                 ("a_lstm", "lstm"), ("a_lstm", "mean_lstm"), ("a_lstm", "a_lstm"),
                 ("rlc", "baseline"), ("rlc", "s3"), ("rlc_al", "s3"), ("drn", "baseline"),
                 ("bilstm_att", "frontend"), ("dense_lstm", "general")]:
        assert case in cases
    # AReLU's numeric variants iii..v share ar_gru_v's path
    assert ("ar_gru", "ar_gru_iv") not in cases and len(cases) == len(set(cases))


def test_timing_runs_repeat_the_carried_torch_entries() -> None:
    configs = timing_runs.entry_configs(ROOT / "leaderboards" / "synthetic-4class-loso")
    assert configs, "no leaderboard entry to time"
    assert all(c["config"]["feature"] in _gpu.CARRIED_FEATURES for c in configs)
    assert [c["expected"] for c in configs] == sorted(c["expected"] for c in configs)
    assert "svm" not in {c["config"]["model"] for c in configs}
    assert all(c["config"]["corpus"] == "synthetic" for c in configs)


def test_repacked_wheel_holds_the_same_files(tmp_path) -> None:
    wheel = tmp_path / "pkg-1.0-cp311-abi3-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("pkg/__init__.py", "x = 1\n")
        zf.writestr("pkg/lib.so", b"\x7fELF" + bytes(1000))
        zf.writestr("pkg-1.0.dist-info/METADATA", "Name: pkg\nVersion: 1.0\n")
    target = tmp_path / "pkg.tar.xz"
    prepare_carry.repack_xz(wheel, target)
    with tarfile.open(target) as tar:
        tar.extractall(tmp_path / "out", filter="data")
    assert (tmp_path / "out" / "pkg" / "lib.so").read_bytes() == b"\x7fELF" + bytes(1000)
    assert (tmp_path / "out" / "pkg-1.0.dist-info" / "METADATA").read_text().startswith("Name")


def test_audio_check_can_be_switched_off_for_a_machine_without_audio(
        tmp_path, serbench_env, monkeypatch) -> None:
    manifest = write_tiny_corpus(tmp_path / "corpus")
    for wav in (tmp_path / "corpus").rglob("*.wav"):
        wav.unlink()
    config = RunConfig(model="bilstm_att", corpus="manifest", data=manifest)
    with pytest.raises(ManifestError, match="missing audio file"):
        resolve_run(config, get_registry())
    monkeypatch.setenv("SERBENCH_AUDIO_CHECK", "0")
    res = resolve_run(config, get_registry())  # the manifest's other checks still ran
    assert res.manifest.height == 48
