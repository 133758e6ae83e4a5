"""What a row's score alone hides: chance level, single-class predictors, superseded
versions, the epoch budget and per-class recall.

Everything here is derived from the entries (never typed in), and stored in the summary
when a version is published, so a published page keeps its marks.

- Chance is ``1 / number of classes`` (the UA of any constant or random predictor).
- A row is *at chance* when its UA (mean over folds) lies within :data:`CHANCE_TOL` of
  chance; it *predicts one class* when every run says so in its record's
  ``single_class.every_fold`` (docs/run-record.md), or, for entries added before that
  field, when for every speaker with two or more classes the per-utterance counts show
  one class all correct and every other class all wrong.
- A row is *superseded* when a row of the same model and variant has a higher
  ``model_version``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: UA within this many (fraction) of 1/K counts as chance level.
CHANCE_TOL = 0.01


def chance_level(classes: Sequence[str]) -> float | None:
    """``1 / len(classes)``, the UA of a predictor that ignores its input."""
    return 1.0 / len(classes) if classes else None


def _clusters(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]] | None:
    counts = [e.get("counts") for e in entries]
    if not counts or any(c is None for c in counts):
        return None
    if any(c["classes"] != counts[0]["classes"] for c in counts):
        return None
    return [slot for c in counts for slot in c["clusters"].values()]


def per_class_recall(entries: Sequence[Mapping[str, Any]]) -> dict[str, float | None] | None:
    """Recall per class over all test utterances (seeds summed), from the entries'
    per-speaker counts; ``None`` when an entry kept no counts (no predictions saved)."""
    clusters = _clusters(entries)
    if clusters is None:
        return None
    classes = entries[0]["counts"]["classes"]
    n = [sum(slot["n"][i] for slot in clusters) for i in range(len(classes))]
    k = [sum(slot["correct"][i] for slot in clusters) for i in range(len(classes))]
    return {c: (k[i] / n[i] if n[i] else None) for i, c in enumerate(classes)}


def confusion(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The pooled confusion matrix of a group (seeds summed) from its entries'
    ``confusion``; ``None`` when an entry has none (added before matrices were kept, or
    without predictions) or the entries disagree on the classes."""
    found = [e.get("confusion") for e in entries]
    if not found or any(c is None for c in found):
        return None
    classes = found[0]["classes"]
    if any(c["classes"] != classes for c in found):
        return None
    size = len(classes)
    matrix = [[sum(c["matrix"][i][j] for c in found) for j in range(size)]
              for i in range(size)]
    return {"classes": list(classes), "matrix": matrix}


def predicts_one_class(entries: Sequence[Mapping[str, Any]]) -> bool:
    """Whether every run of the group predicts one class per fold: from the records'
    ``single_class`` where the entries carry it; for older entries, whether for every
    speaker tested on two or more classes exactly one class is recalled entirely and
    the others not at all (a constant prediction per fold)."""
    flagged = [e["single_class"] for e in entries if e.get("single_class") is not None]
    older = [e for e in entries if e.get("single_class") is None]
    if flagged and not all(f.get("every_fold") for f in flagged):
        return False
    if not older:
        return bool(flagged)
    clusters = _clusters(older)
    if not clusters:
        return False
    judged = 0
    for slot in clusters:
        present = [(k, n) for k, n in zip(slot["correct"], slot["n"], strict=True) if n > 0]
        if len(present) < 2:
            continue  # one class present: any predictor looks constant here
        judged += 1
        full = sum(k == n for k, n in present)
        empty = sum(k == 0 for k, _ in present)
        if not (full == 1 and empty == len(present) - 1):
            return False
    return judged > 0


def flags(entries: Sequence[Mapping[str, Any]], ua_mean: float | None,
          chance: float | None) -> list[str]:
    """``"one-class"`` and/or ``"chance"`` for a group (see the module docstring)."""
    out = []
    if predicts_one_class(entries):
        out.append("one-class")
    if chance is not None and ua_mean is not None and abs(ua_mean - chance) <= CHANCE_TOL:
        out.append("chance")
    return out


def epoch_budget(hyperparameters: Mapping[str, Any]) -> int | None:
    """``max_epochs`` from the hyperparameters (``None`` for models without epochs)."""
    value = hyperparameters.get("max_epochs")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def default_epoch_budget(model: str, variant: str | None, version: int) -> int | None:
    """The epoch budget the model trains for by default (its defaults, then its variant's),
    read from the installed model when it is installed at ``version``; ``None`` otherwise
    (a board read without the plugin, or one of another version). A row whose budget is
    below it was trained with a reduced budget and says so."""
    from serbench.errors import SerbenchError
    from serbench.plugins import get_registry

    try:
        spec = get_registry().model(model)
    except SerbenchError:
        return None
    if spec.version != version:
        return None
    return epoch_budget({**spec.defaults, **(spec.variants.get(variant) or {} if variant else {})})


def mark_superseded(groups: Sequence[dict[str, Any]]) -> None:
    """Set ``group["superseded_by"]`` to the newest ``model_version`` of the same model and
    variant when that is higher than the group's own (else ``None``)."""
    newest: dict[tuple[str, str | None], int] = {}
    for g in groups:
        key = (g["model"], g.get("variant"))
        newest[key] = max(newest.get(key, g["model_version"]), g["model_version"])
    for g in groups:
        top = newest[(g["model"], g.get("variant"))]
        g["superseded_by"] = top if top > g["model_version"] else None


def pairs_needed(alpha: float) -> int:
    """The fewest pairs with which an exact two-sided sign-flip test can reach ``alpha``
    (its smallest p-value is ``2 / 2**n``)."""
    n = 1
    while 2.0 / 2**n > alpha:
        n += 1
    return n
