"""Per-utterance predictions: one frame per fold, concatenated into predictions.parquet.

Columns: ``utt_id``, ``fold``, ``speaker``, ``label``, ``pred`` (class names) and one
``score_<class>`` column per class (the model's scores, e.g. softmax probabilities;
null when the model gives none).

The same columns for each fold's *validation* utterances (scored by the final model)
go to ``valid_predictions.parquet`` (:func:`fold_valid_predictions`): score fusion
(``serbench fuse``) is fitted on them, never on test predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl


def fold_predictions(
    fold: str, outcome: Any, manifest: pl.DataFrame, classes: Sequence[str]
) -> pl.DataFrame:
    """The prediction rows of one fold's outcome (``FoldOutcome``)."""
    utt_ids = [str(u) for u in outcome.utt_ids]
    speakers = dict(zip(manifest["utt_id"].to_list(), manifest["speaker"].to_list(), strict=True))
    y_true = np.asarray(outcome.y_true, dtype=np.int64)
    y_pred = np.asarray(outcome.y_pred, dtype=np.int64)
    columns: dict[str, Any] = {
        "utt_id": utt_ids,
        "fold": [fold] * len(utt_ids),
        "speaker": [str(speakers.get(u)) for u in utt_ids],
        "label": [classes[i] for i in y_true],
        "pred": [classes[i] for i in y_pred],
    }
    scores = getattr(outcome, "scores", None)
    scores = None if scores is None else np.asarray(scores, dtype=np.float64)
    for c, name in enumerate(classes):
        columns[f"score_{name}"] = (
            scores[:, c].tolist() if scores is not None else [None] * len(utt_ids)
        )
    schema = {f"score_{name}": pl.Float64 for name in classes}
    return pl.DataFrame(columns, schema_overrides=schema)


def fold_valid_predictions(
    fold: str, outcome: Any, manifest: pl.DataFrame, classes: Sequence[str]
) -> pl.DataFrame | None:
    """The validation rows of one fold's outcome, as :func:`fold_predictions` builds the
    test rows; None when the outcome carries no validation scores."""
    ids = list(getattr(outcome, "valid_utt_ids", None) or [])
    if not ids:
        return None
    valid = SimpleNamespace(
        utt_ids=ids,
        y_true=outcome.valid_y_true,
        y_pred=np.asarray(outcome.valid_scores).argmax(-1),
        scores=outcome.valid_scores,
    )
    return fold_predictions(fold, valid, manifest, classes)


def label_indices(frame: pl.DataFrame, classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) as class indices from a predictions frame."""
    index = {c: i for i, c in enumerate(classes)}
    y_true = np.array([index[c] for c in frame["label"].to_list()], dtype=np.int64)
    y_pred = np.array([index[c] for c in frame["pred"].to_list()], dtype=np.int64)
    return y_true, y_pred


def score_matrix(frame: pl.DataFrame, classes: Sequence[str]) -> np.ndarray | None:
    """(N, C) scores from a predictions frame; None when any score is missing."""
    cols = [f"score_{c}" for c in classes]
    block = frame.select(cols)
    if block.null_count().sum_horizontal().item() > 0:
        return None
    return block.to_numpy().astype(np.float64)
