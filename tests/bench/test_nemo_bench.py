"""The best neural model against the SVM on real speech: nEMO, loso-speaker (issue 20).

Run by ``tox -e bench``. Both models run in the same process on the nEMO subset
(``SERBENCH_NEMO``, default ``../shared/data/nemo``; skipped when it is not there) with
protocol ``loso-speaker`` and every other setting at its default (each model's own
features, normalisation and training settings). Features are read through the feature
cache *before* the clock starts (the first run extracts them: minutes), so each wall time
is the run itself: training, inference and writing the run folder. The printed ratio is
the neural model's wall time over the SVM's; the pooled UAs (chance: 1/6) go beside it,
and all of it into the benchmark JSON's ``extra_info``.

``SERBENCH_BENCH_MAX_EPOCHS`` caps the neural model's epochs for a quick check of this
file (unset: the model's default budget, what the numbers mean).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from serbench.plugins import get_registry
from serbench.run.config import RunConfig
from serbench.run.pipeline import run_experiment
from serbench.run.resolve import resolve_run

#: The neural model to compare, as (model name, ``--set`` overrides). docs/training.md
#: says why it is the one chosen (the measured diagnosis on nEMO, issue 20).
NEURAL: tuple[str, dict[str, Any]] = ("mlp", {})
BASELINE = "svm"
PROTOCOL = "loso-speaker"

NEMO = Path(os.environ.get("SERBENCH_NEMO") or Path(
    os.environ.get("SERBENCH_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared"
                   / "data")) / "nemo")
MAX_EPOCHS = int(os.environ["SERBENCH_BENCH_MAX_EPOCHS"]) if os.environ.get(
    "SERBENCH_BENCH_MAX_EPOCHS") else None


def _config(model: str, overrides: dict[str, Any], max_epochs: int | None = None) -> RunConfig:
    return RunConfig(model=model, corpus="nemo", data=NEMO, protocol=PROTOCOL,
                     overrides=overrides, max_epochs=max_epochs)


def _features(config: RunConfig) -> Any:
    """The run's feature table through the cache (extracted here on a cold cache), as the
    pipeline would load it, so that the timed run starts with its features in hand."""
    from serbench.features.cache import load_features

    res = resolve_run(config, get_registry())
    manifest = res.corpus.manifest if "context" in res.spec.inputs else res.manifest
    return load_features(manifest, res.feature_entry.spec.name, params=res.feature_params,
                         fingerprint=res.fingerprint, progress=False)


def _timed(config: RunConfig, features: Any) -> tuple[dict, float]:
    start = time.perf_counter()
    record = run_experiment(config, progress=False, features=features)
    return record, time.perf_counter() - start


@pytest.mark.benchmark(group="nemo")
@pytest.mark.skipif(not (NEMO / "data.tsv").is_file(),
                    reason=f"no nEMO subset at {NEMO} (set SERBENCH_NEMO to its folder)")
def test_neural_vs_svm_on_nemo(benchmark, tmp_path, monkeypatch):
    monkeypatch.setenv("SERBENCH_RUNS", str(tmp_path / "runs"))  # fresh runs, not resumed
    model, overrides = NEURAL
    svm_config = _config(BASELINE, {})
    neural_config = _config(model, overrides, MAX_EPOCHS)
    svm_features, neural_features = _features(svm_config), _features(neural_config)

    svm, svm_s = _timed(svm_config, svm_features)
    neural, neural_s = benchmark.pedantic(_timed, args=(neural_config, neural_features),
                                          rounds=1, iterations=1)
    ratio = neural_s / svm_s
    svm_ua = svm["aggregate"]["pooled"]["ua"]
    neural_ua = neural["aggregate"]["pooled"]["ua"]
    name = f"{model}{'' if not overrides else ' ' + str(overrides)}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    benchmark.extra_info.update(
        neural=name, neural_pooled_ua=neural_ua, svm_pooled_ua=svm_ua, neural_seconds=neural_s,
        svm_seconds=svm_s, wall_time_ratio=ratio, max_epochs=MAX_EPOCHS,
        device=neural["training"]["device"], load_average=load,
        neural_single_class=neural.get("single_class"))
    epochs = "default epochs" if MAX_EPOCHS is None else f"max_epochs {MAX_EPOCHS}"
    print(f"\nnEMO {PROTOCOL} ({len(neural['folds'])} folds, chance "
          f"{100 / len(neural['corpus']['classes']):.1f}%): pooled UA {name} "
          f"{100 * neural_ua:.1f}% vs {BASELINE} {100 * svm_ua:.1f}%; wall time {name} "
          f"{neural_s:.1f} s ({epochs}, {neural['training']['device']}) / {BASELINE} "
          f"{svm_s:.1f} s: ratio {ratio:.1f} (load average {load:.1f})")
    for warning in neural.get("warnings") or []:
        print(f"  {name} warning: {warning}")
    assert len(svm["folds"]) == len(neural["folds"]) == 6
