"""Learning curves of run records as a PNG (matplotlib's Agg backend, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from serbench.errors import ConfigError

_LABELS = {"valid_ua": "validation UA (%)", "valid_loss": "validation loss",
           "train_loss": "training loss"}


def fold_curves(record: Mapping[str, Any], metric: str) -> list[tuple[list[int], list[float]]]:
    """(epochs, values) of each fold that has a curve with ``metric``."""
    out = []
    for fold in record["folds"]:
        points = [p for p in fold.get("curve") or [] if p.get(metric) is not None]
        if points:
            out.append(([int(p["epoch"]) for p in points], [float(p[metric]) for p in points]))
    return out


def mean_curve(curves: Sequence[tuple[list[int], list[float]]]) -> tuple[list[int], list[float]]:
    """Per epoch, the mean over the folds that reached it (folds stop early at different
    epochs)."""
    by_epoch: dict[int, list[float]] = {}
    for epochs, values in curves:
        for e, v in zip(epochs, values, strict=True):
            by_epoch.setdefault(e, []).append(v)
    epochs = sorted(by_epoch)
    return epochs, [float(np.mean(by_epoch[e])) for e in epochs]


def _label(record: Mapping[str, Any]) -> str:
    model = record["model"]
    name = model["name"] + (f"[{model['variant']}]" if model.get("variant") else "")
    return f"{name} · {record['corpus']['name']} · {record['protocol']['name']} · s{record['training']['seed']}"


def plot_curves(records: Sequence[Mapping[str, Any]], output: Path, *,
                metric: str = "valid_ua") -> Path:
    """One line per run (mean over folds) with light per-fold lines; returns ``output``.

    Raises:
        ConfigError: when no run has a curve (e.g. only scikit-learn models).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = 100.0 if metric == "valid_ua" else 1.0
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    plotted, skipped, lows, highs = 0, [], [], []
    labels = [_label(r) for r in records]
    for i, record in enumerate(records):
        label = labels[i]
        if labels.count(label) > 1:  # same settings otherwise: tell runs apart by config hash
            label += f" · {record['run_id'].rsplit('-', 1)[-1]}"
        curves = fold_curves(record, metric)
        if not curves:
            skipped.append(record["run_id"])
            continue
        colour = colours[i % len(colours)]
        for epochs, values in curves:
            ax.plot(epochs, [scale * v for v in values], color=colour, alpha=0.25, linewidth=1)
        epochs, values = mean_curve(curves)
        ax.plot(epochs, [scale * v for v in values], color=colour, linewidth=2.2, marker="o",
                markersize=3, label=f"{label} ({len(curves)} folds)")
        every = [scale * v for _, vs in curves for v in vs]
        lows.append(min(every))
        highs.append(max(every))
        plotted += 1
    if not plotted:
        plt.close(fig)
        raise ConfigError(
            f"no {metric} curve in run(s) {', '.join(skipped)}: only torch models record "
            "per-epoch curves"
        )
    if metric == "valid_ua":  # a margin around the data, within 0-100 %
        ax.set_ylim(max(0.0, min(lows) - 5), min(100.0, max(highs) + 5))
    ax.set_xlabel("epoch")
    ax.set_ylabel(_LABELS.get(metric, metric))
    ax.set_title(f"{_LABELS.get(metric, metric)} per epoch: mean over folds (light: each fold)")
    ax.grid(True, alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output)
    plt.close(fig)
    return output
