"""Runs whose test predictions collapse to one class (issue 20).

A model that predicts the same class for every test utterance scores chance-level UA
whatever its input; on real speech a neural model that did not learn does exactly that.
The run record says so in ``single_class`` (docs/run-record.md) and in a ``warnings``
sentence, which ``serbench run`` prints under its tables.

A fold (or the pooled run) is judged only when its test utterances hold two or more
true classes: one predicted class there means some utterances are necessarily wrong.
A fold whose test set holds a single class (a tiny fold) is not judged: predicting that
class is right, not a collapse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

#: folds named in the warning sentence before "..."
MAX_NAMED = 10


def _single(frame: pl.DataFrame) -> str | None:
    """The one class ``frame`` predicts, when its labels hold two or more classes."""
    if frame.height == 0 or frame["label"].n_unique() < 2:
        return None
    predicted = frame["pred"].unique().to_list()
    return str(predicted[0]) if len(predicted) == 1 else None


def single_class(predictions: pl.DataFrame, fold_names: Sequence[str]) -> dict[str, Any]:
    """The record's ``single_class`` field from a run's test predictions.

    Args:
        predictions: ``predictions.parquet``'s rows (``fold``, ``label``, ``pred``).
        fold_names: the run's folds, in record order.
    Returns:
        ``{"pooled": class | None, "folds": {fold: class}, "every_fold": bool}``:
        ``pooled`` is the class every test prediction of the run is (None unless the run
        collapsed), ``folds`` maps each judged fold predicting one class to that class,
        ``every_fold`` is True when every judged fold (at least one) does.
    """
    folds: dict[str, str] = {}
    judged = 0
    for name in fold_names:
        rows = predictions.filter(pl.col("fold") == name)
        if rows.height and rows["label"].n_unique() >= 2:
            judged += 1
        cls = _single(rows)
        if cls is not None:
            folds[str(name)] = cls
    return {"pooled": _single(predictions), "folds": folds,
            "every_fold": judged > 0 and len(folds) == judged}


def single_class_warnings(info: Mapping[str, Any] | None, n_folds: int,
                          n_test: int) -> list[str]:
    """The ``warnings`` sentence(s) for a ``single_class`` field (``[]`` when nothing
    collapsed)."""
    if not info:
        return []
    if info.get("pooled") is not None:
        return [f"the model predicts a single class ({info['pooled']!r}) for all {n_test} "
                "test utterances of every fold: it collapsed to one class, so its scores "
                "are chance level and say nothing about its input (record: single_class)."]
    folds = info.get("folds") or {}
    if not folds:
        return []
    named = ", ".join(f"{k} ({v!r})" for k, v in list(folds.items())[:MAX_NAMED])
    more = ", ..." if len(folds) > MAX_NAMED else ""
    head = ("every fold predicts" if info.get("every_fold")
            else f"{len(folds)} of {n_folds} fold(s) predict")
    return [f"{head} a single class for every test utterance: {named}{more}; the model "
            "collapsed to one class there (record: single_class)."]
