"""The pooled confusion matrix of a run's test predictions as a figure.

Pooled: every fold's test utterances in one matrix (rows = true class, columns =
predicted, in the record's class order), counted from ``predictions.parquet``, so it
equals the record's ``aggregate.pooled.confusion``. Row-normalised, a cell is the share
of the true class's utterances (the diagonal is each class's recall; the mean of the
diagonal is UA); every cell also shows its count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from serbench.errors import ConfigError
from serbench.figures import FigureStyle, output_path, pyplot, save


def pooled_confusion(frame: pl.DataFrame, classes: Sequence[str]) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted.

    Raises:
        ConfigError: a label or prediction outside ``classes``.
    """
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({*frame["label"].to_list(), *frame["pred"].to_list()} - set(index))
    if unknown:
        raise ConfigError(f"predictions name classes {unknown} that the record's classes "
                          f"{list(classes)} lack; the run folder is inconsistent")
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    true = [index[c] for c in frame["label"].to_list()]
    pred = [index[c] for c in frame["pred"].to_list()]
    np.add.at(matrix, (true, pred), 1)
    return matrix


def row_normalise(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (a class without test utterances stays 0)."""
    sums = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sums, out=np.zeros(matrix.shape), where=sums > 0)


def plot_confusion(record: Mapping[str, Any], frame: pl.DataFrame, output: Path, *,
                   normalise: bool = True, style: FigureStyle | None = None) -> Path:
    """Draw the pooled confusion matrix of ``frame`` (the run's predictions); returns
    the file written."""
    style = style or FigureStyle()
    output, fmt = output_path(output, style)
    classes = list(record["corpus"]["classes"])
    counts = pooled_confusion(frame, classes)
    shown = row_normalise(counts) * 100 if normalise else counts.astype(float)
    plt = pyplot()
    side = 1.2 + 0.75 * len(classes)
    fig, ax = plt.subplots(figsize=style.figsize((side + 1.4, side)), layout="constrained")
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=100 if normalise else max(1, counts.max()))
    fig.colorbar(im, ax=ax, label="% of the true class" if normalise else "utterances")
    for (i, j), n in np.ndenumerate(counts):
        text = f"{shown[i, j]:.0f}%\n({n})" if normalise else str(n)
        dark = shown[i, j] > 0.6 * (100 if normalise else max(1, counts.max()))
        ax.text(j, i, text, ha="center", va="center", fontsize="small",
                color="white" if dark else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45 if len(classes) > 5 else 0)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    model = record["model"]["name"] + (f"-{record['model']['variant']}"
                                       if record["model"].get("variant") else "")
    ua = np.mean(np.diag(row_normalise(counts))[counts.sum(axis=1) > 0]) * 100
    ax.set_title(f"{model} · {record['corpus']['name']} · {record['protocol']['name']}\n"
                 f"pooled over {record['protocol'].get('n_folds', '?')} folds, "
                 f"{int(counts.sum())} utterances, UA {ua:.1f}%", fontsize="medium")
    return save(fig, output, fmt, style.dpi or 150)
