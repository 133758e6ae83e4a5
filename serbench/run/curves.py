"""Learning curves of run records as a figure (PDF, SVG or PNG; matplotlib's Agg backend).

Each fold's curve is a light line with its best epoch (the fold's ``best_epoch``, whose
weights were kept) marked by a star; the mean over folds is bold. Validation-UA curves
show chance, 1 / number of classes, as a dashed line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from serbench.errors import ConfigError
from serbench.figures import FigureStyle, output_path, pyplot, save

_LABELS = {"valid_ua": "validation UA (%)", "valid_loss": "validation loss",
           "train_loss": "training loss"}


def fold_curves(record: Mapping[str, Any],
                metric: str) -> list[tuple[list[int], list[float], int | None]]:
    """(epochs, values, best epoch or None) of each fold with a ``metric`` curve."""
    out = []
    for fold in record["folds"]:
        points = [p for p in fold.get("curve") or [] if p.get(metric) is not None]
        if points:
            best = fold.get("best_epoch")
            out.append(([int(p["epoch"]) for p in points], [float(p[metric]) for p in points],
                        int(best) if best is not None else None))
    return out


def chance_levels(records: Sequence[Mapping[str, Any]]) -> list[int]:
    """The distinct class counts of the records that name their classes."""
    counts = {len(r["corpus"]["classes"]) for r in records if r["corpus"].get("classes")}
    return sorted(counts)


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
                metric: str = "valid_ua", style: FigureStyle | None = None) -> Path:
    """Write :func:`curves_figure` to ``output`` (with ``style.format``'s suffix when it
    has none); returns the file written.

    Raises:
        ConfigError: an unusable output name, or no run has a curve; checked before
            drawing.
    """
    style = style or FigureStyle()
    output, fmt = output_path(output, style)
    return save(curves_figure(records, metric=metric, style=style), output, fmt,
                style.dpi or 120)


def curves_figure(records: Sequence[Mapping[str, Any]], *, metric: str = "valid_ua",
                  style: FigureStyle | None = None) -> Any:
    """A matplotlib figure: one line per run (mean over folds) with light per-fold lines,
    each fold's best epoch starred, chance dashed (validation UA).

    Raises:
        ConfigError: no run has a curve (e.g. only scikit-learn models).
    """
    style = style or FigureStyle()
    plt = pyplot()
    scale = 100.0 if metric == "valid_ua" else 1.0
    per_run = [fold_curves(r, metric) for r in records]
    if not any(per_run):
        raise ConfigError(
            f"no {metric} curve in run(s) {', '.join(r['run_id'] for r in records)}: only "
            "torch models record per-epoch curves"
        )
    fig, ax = plt.subplots(figsize=style.figsize((8, 5)), layout="constrained")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    lows, highs, starred = [], [], False
    labels = [_label(r) for r in records]
    for i, (record, curves) in enumerate(zip(records, per_run, strict=True)):
        if not curves:
            continue
        label = labels[i]
        if labels.count(label) > 1:  # same settings otherwise: tell runs apart by config hash
            label += f" · {record['run_id'].rsplit('-', 1)[-1]}"
        colour = colours[i % len(colours)]
        for epochs, values, best in curves:
            ax.plot(epochs, [scale * v for v in values], color=colour, alpha=0.25, linewidth=1)
            if best in epochs:
                ax.plot(best, scale * values[epochs.index(best)], marker="*", markersize=9,
                        color=colour, markeredgecolor="black", markeredgewidth=0.5,
                        linestyle="none", label=None if starred else "best epoch (each fold)")
                starred = True
        epochs, values = mean_curve([(e, v) for e, v, _ in curves])
        ax.plot(epochs, [scale * v for v in values], color=colour, linewidth=2.2, marker="o",
                markersize=3, label=f"{label} ({len(curves)} folds)")
        every = [scale * v for _, vs, _ in curves for v in vs]
        lows.append(min(every))
        highs.append(max(every))
    if metric == "valid_ua":
        for n in chance_levels(records):
            ax.axhline(100.0 / n, color="grey", linestyle="--", linewidth=1,
                       label=f"chance (1/{n} classes)")
            lows.append(100.0 / n)
        ax.set_ylim(max(0.0, min(lows) - 5), min(100.0, max(highs) + 5))  # within 0-100 %
    ax.set_xlabel("epoch")
    ax.set_ylabel(_LABELS.get(metric, metric))
    ax.set_title(f"{_LABELS.get(metric, metric)} per epoch: mean over folds (light: each fold)",
                 fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize="small", loc="best")
    return fig
