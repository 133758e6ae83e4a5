"""Leaderboard runs timed with CUDA events: the torch entries of a benchmark, re-run on the
GPU at fp32 and bf16 (run by tests/gpu/device_run.sh; docs/gpu.md).

Each torch entry of ``leaderboards/<benchmark>/entries`` whose feature the GPU machine
holds (``_gpu.CARRIED_FEATURES``) is re-run with the same model, variant,
hyperparameters, feature, normalisation and seed, on ``--device cuda``, once per
precision. The precision is always set explicitly (``precision=fp32`` too), so a GPU
run's id differs from the CPU entry's (the device is not part of a run's identity) and
both rows can stand in one leaderboard. Runs go in order, shortest expected first, until
``--deadline`` seconds have passed; the ones not started are listed as skipped.

Usage: python3 tests/gpu/timing_runs.py --runs-dir DIR [--deadline 200] [--precision fp32 bf16]
[--device cuda]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _gpu import CARRIED_FEATURES  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def entry_configs(benchmark: Path) -> list[dict[str, Any]]:
    """The runnable torch entries of a benchmark folder: RunConfig keyword arguments, with
    the CPU entry's seconds per epoch x epochs as ``expected`` (for the order)."""
    bench = json.loads((benchmark / "benchmark.json").read_text())
    out = []
    for path in sorted((benchmark / "entries").glob("*.json")):
        entry = json.loads(path.read_text())
        model, feature = entry["model"], entry["feature"]
        hp = dict(model.get("hyperparameters") or {})
        if feature["name"] not in CARRIED_FEATURES or "max_epochs" not in hp:
            continue  # an sklearn model (no epochs), or a feature the machine lacks
        per_epoch = (entry.get("timing") or {}).get("train_seconds_per_epoch") or 1.0
        out.append({
            "entry": path.name,
            "expected": float(per_epoch) * int(hp["max_epochs"]),
            "config": dict(model=model["name"], variant=model.get("variant"),
                           corpus=bench["corpus"], label_map=bench["label_map"],
                           protocol=bench["protocol"], feature=feature["name"],
                           feature_params=dict(feature.get("params") or {}),
                           normalisation=feature.get("normalisation"), overrides=hp,
                           seed=int(entry["seed"])),
        })
    return sorted(out, key=lambda c: c["expected"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", type=Path,
                        default=ROOT / "leaderboards" / "synthetic-4class-loso")
    parser.add_argument("--runs-dir", type=Path, required=True)
    parser.add_argument("--deadline", type=float, default=200.0,
                        help="seconds after which no further run starts")
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of this script")
    args = parser.parse_args(argv)
    args.runs_dir.mkdir(parents=True, exist_ok=True)

    from serbench.plugins import get_registry
    from serbench.run.config import RunConfig
    from serbench.run.pipeline import run_experiment

    registry = get_registry()
    start = time.monotonic()
    summary: list[dict[str, Any]] = []
    cases = [(c, p) for c in entry_configs(args.benchmark) for p in args.precision]
    for case, precision in cases:
        name = f"{case['entry']} @ {precision}"
        if time.monotonic() - start > args.deadline:
            summary.append({"run": name, "status": "skipped (deadline)"})
            continue
        kwargs = dict(case["config"])
        kwargs["overrides"] = {**kwargs["overrides"], "precision": precision}
        t0 = time.monotonic()
        try:
            record = run_experiment(RunConfig(**kwargs, device=args.device, runs_dir=args.runs_dir),
                                    registry=registry, progress=False,
                                    command=["tests/gpu/timing_runs.py", name])
        except Exception:
            summary.append({"run": name, "status": "failed", "error": traceback.format_exc()})
            print(f"FAILED {name}\n{traceback.format_exc()}", flush=True)
            continue
        t = record["timing"]
        row = {"run": name, "status": "done", "run_id": record["run_id"],
               "wall_s": round(time.monotonic() - t0, 1), "clock": t["clock"],
               "device_name": t["device_name"], "precision": t.get("precision"),
               "train_seconds_per_epoch": t["train_seconds_per_epoch"],
               "inference_latency_ms": t["inference_latency_ms"],
               "throughput_utt_per_s": t["throughput_utt_per_s"],
               "peak_memory_mb": t["peak_memory_mb"], "data_wait_share": t.get("data_wait_share"),
               "ua": record["aggregate"]["pooled"].get("ua")}
        summary.append(row)
        print(json.dumps(row), flush=True)
    (args.runs_dir / "timing_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if any(r["status"] == "failed" for r in summary) else 0


if __name__ == "__main__":
    sys.exit(main())
