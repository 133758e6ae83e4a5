"""Summarise a folder of serbench runs as the tables in docs/training.md.

    python docs/experiments/summarise.py RUNS_DIR [--corpus nemo]

Runs are grouped by configuration (model, variant, feature and its normalisation,
hyperparameters, protocol options; the seed aside). Per configuration: seeds, validation UA of the selected models
(mean over folds and seeds: what choosing may look at), with `inner_folds` also the mean
validation UA over every development speaker (each scored by the inner model that held it
out), pooled test UA mean ± std over
seeds, the fold std of test UA (mean over seeds), single-class folds, and the median wall
time per run (config.json written -> record.json written).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import balanced_accuracy_score


def _valid_ua(folder: Path) -> float | None:
    path = folder / "valid_predictions.parquet"
    if not path.exists():
        return None
    frame = pl.read_parquet(path)
    scores = [
        balanced_accuracy_score(part["label"].to_numpy(), part["pred"].to_numpy())
        for _, part in frame.group_by("fold")
    ]
    return float(np.mean(scores)) if scores else None


def _inner_valid_ua(folds: list[dict]) -> float | None:
    """Mean over folds of the inner models' validation UA (``inner_folds`` runs only)."""
    values = [f["selection"]["valid_ua_mean"] for f in folds
              if (f.get("selection") or {}).get("valid_ua_mean") is not None]
    return float(np.mean(values)) if values else None


def _predicted_classes(fold: dict) -> int:
    """How many classes a fold's test predictions use (columns of its confusion matrix)."""
    confusion = np.asarray(fold["metrics"].get("confusion") or [[1, 1]])
    return int((confusion.sum(axis=0) > 0).sum())


def _key(record: dict) -> str:
    model = record["model"]
    hp = dict(model["hyperparameters"])
    name = model["name"] + (f"/{model['variant']}" if model.get("variant") else "")
    options = record["protocol"].get("options") or {}
    extra = " ".join(f"{k}={v}" for k, v in sorted(options.items()))
    # normalisation is a run setting, not a hyperparameter: without it a speaker- and a
    # globally normalised run of the same recipe would share a row
    feature = f"{record['feature']['name']} ({record['feature'].get('normalisation', '?')})"
    # parameters given beyond the feature's name (window, hop, pool, ...) tell rows apart
    given = {k: v for k, v in (record["feature"].get("params") or {}).items()
             if k not in ("set", "level")}
    if given:
        feature += " " + " ".join(f"{k}={v}" for k, v in sorted(given.items()))
    return f"{name} {feature} {json.dumps(hp, sort_keys=True)} {extra}".strip()


def summarise(runs: Path, corpus: str | None) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for record_path in sorted(runs.glob("*/record.json")):
        record = json.loads(record_path.read_text())
        if record.get("status") != "complete":
            continue
        if corpus and record["corpus"]["name"] != corpus:
            continue
        folder = record_path.parent
        folds = record["folds"]
        groups.setdefault(_key(record), []).append(
            {
                "seed": record["training"]["seed"] if record.get("training") else None,
                "pooled": record["aggregate"]["pooled"]["ua"],
                "fold_std": record["aggregate"]["std"]["ua"],
                "valid": _valid_ua(folder),
                "inner": _inner_valid_ua(folds),
                "single": sum(1 for f in folds if _predicted_classes(f) == 1),
                "epochs": [f.get("best_epoch") for f in folds],
                "wall": record_path.stat().st_mtime - (folder / "config.json").stat().st_mtime,
            }
        )
    rows = []
    for key, runs_ in sorted(groups.items()):
        pooled = [r["pooled"] for r in runs_]
        valid = [r["valid"] for r in runs_ if r["valid"] is not None]
        inner = [r["inner"] for r in runs_ if r["inner"] is not None]
        rows.append(
            {
                "config": key,
                "seeds": sorted(r["seed"] for r in runs_),
                "valid_ua": statistics.mean(valid) if valid else None,
                "inner_valid_ua": statistics.mean(inner) if inner else None,
                "pooled_mean": statistics.mean(pooled),
                "pooled_std": statistics.stdev(pooled) if len(pooled) > 1 else 0.0,
                "fold_std": statistics.mean(r["fold_std"] for r in runs_),
                "single_class_folds": sum(r["single"] for r in runs_),
                "best_epochs": [r["epochs"] for r in runs_],
                "wall_s": statistics.median(r["wall"] for r in runs_),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--json", action="store_true", help="print JSON rows instead")
    args = parser.parse_args()
    rows = summarise(args.runs, args.corpus)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print("| configuration | seeds | valid UA | inner valid UA | pooled UA (± seeds) | fold std "
          "| 1-class folds | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in sorted(rows, key=lambda r: -(r["valid_ua"] or 0)):
        valid = f"{100 * row['valid_ua']:.1f}" if row["valid_ua"] is not None else "-"
        inner = (f"{100 * row['inner_valid_ua']:.1f}" if row["inner_valid_ua"] is not None
                 else "-")
        print(
            f"| `{row['config']}` | {len(row['seeds'])} | {valid} | {inner} | "
            f"{100 * row['pooled_mean']:.1f} ± {100 * row['pooled_std']:.1f} | "
            f"{100 * row['fold_std']:.1f} | {row['single_class_folds']} | {row['wall_s']:.0f} |"
        )


if __name__ == "__main__":
    main()
