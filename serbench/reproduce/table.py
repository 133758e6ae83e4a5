"""The reproduction table: the paper's numbers beside the measured ones, one line per
paper row, with what a reader needs to judge each line (feature set, epochs, parameters,
seeds, notes).

Paper numbers are shown as the paper reports them, on the paper's corpus (paper values
above 1 are taken as percentages, others as fractions). Measured numbers are the mean
over folds on the corpus run here; over several seeds, their mean ± standard deviation.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from serbench.components import PaperResult
from serbench.reproduce.plan import Plan, PlannedRun

#: paper metric names -> serbench metric names
ALIASES = {
    "ua": "ua", "uar": "ua", "unweighted_accuracy": "ua",
    "wa": "wa", "war": "wa", "acc": "wa", "accuracy": "wa", "weighted_accuracy": "wa",
    "maf": "macro_f1", "macro_f1": "macro_f1", "f1": "macro_f1", "mf1": "macro_f1",
    "map": "macro_precision", "macro_precision": "macro_precision",
}


def measured(record: Mapping[str, Any], key: str) -> float | None:
    """A metric of a record by paper name (mean over folds); ``recall_<class>`` /
    ``<class>`` give the per-class recall."""
    name = ALIASES.get(key.lower())
    mean = record["aggregate"]["mean"]
    if name is not None:
        return mean.get(name)
    recalls = mean.get("per_class_recall") or {}
    for cls in (key, key.removeprefix("recall_"), key.removesuffix("_recall")):
        if cls in recalls:
            return recalls[cls]
    return None


def _paper_pct(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value > 1 else f"{100 * value:.2f}"


def _measured_cell(records: Sequence[Mapping[str, Any]], key: str) -> str:
    values = [v for v in (measured(r, key) for r in records) if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{100 * values[0]:.2f}"
    return f"{100 * statistics.fmean(values):.2f} ± {100 * statistics.stdev(values):.2f}"


def _paper_value(result: PaperResult, key: str) -> float | None:
    for name, value in result.metrics.items():
        if name == key or (ALIASES.get(key) is not None
                           and ALIASES.get(name.lower()) == ALIASES.get(key)):
            return value
    return None


def _epochs(records: Sequence[Mapping[str, Any]]) -> str:
    """``budget: run / best`` over folds and seeds (run and best as ranges)."""
    folds = [f for r in records for f in r.get("folds", [])]
    runs = [f["epochs_run"] for f in folds if f.get("epochs_run")]
    if not runs:
        return "– (fitted, not trained)"
    best = [f["best_epoch"] for f in folds if f.get("best_epoch") is not None]
    budget = ((records[0].get("training") or {}).get("config") or {}).get("max_epochs")

    def span(values: list[int]) -> str:
        return str(values[0]) if min(values) == max(values) else f"{min(values)}-{max(values)}"

    return f"{budget if budget is not None else '?'}: {span(sorted(runs))} / " \
           f"{span(sorted(best)) if best else '–'}"


def _feature(records: Sequence[Mapping[str, Any]], note: str) -> str:
    feature = records[0]["feature"]
    text = f"{feature['name']} ({feature.get('normalisation')})"
    return f"{text}; {note}" if note else text


def _params(records: Sequence[Mapping[str, Any]]) -> str:
    n = (records[0].get("timing") or {}).get("n_parameters")
    return "–" if n is None else f"{n / 1e6:.2f}M" if n >= 1e5 else f"{n:,d}"


def _fusion_note(records: Sequence[Mapping[str, Any]]) -> str:
    """How each seed's fusion was fitted (from the fused records' folds)."""
    notes = []
    for record in records:
        for fold in record.get("folds", []):
            info = fold.get("fusion") or {}
            if info:
                counts = ", ".join(f"{c} {n}" for c, n in (info.get("n_fit_per_class")
                                                          or {}).items())
                how = info.get("method", "?")
                if info.get("fallback"):  # not fitted: too few validation utterances
                    how += (f" (not {info.get('requested')}: < {info.get('min_per_class')} "
                            "per class)")
                notes.append(f"fusion {how}, validation set {info.get('n_fit')} ({counts})")
    return "; ".join(dict.fromkeys(notes))


def comparison_table(model: str, plan: Plan, records: Mapping[str, Sequence[Mapping[str, Any]]],
                     *, notes: Mapping[str, str] | None = None,
                     split: str | None = None) -> Table:
    """Measured (ours) beside reported (paper) scores, one line per paper row.

    Args:
        model: the reproduced model's name (the title).
        plan: the rows (:func:`serbench.reproduce.plan.plan_runs`).
        records: row label -> its run records, one per seed (a row not run: absent).
        notes: row label -> a note for its feature cell (e.g. its own feature set).
        split: the rows' one split hash, for the caption.
    """
    metrics = table_metrics(plan)
    some = next((rs[0] for rs in records.values() if rs), None)
    corpus, ours = "here", "nothing run"
    if some is not None:
        c, p = some["corpus"], some["protocol"]
        corpus = c["name"]
        seeds = sorted({r["training"]["seed"] for rs in records.values() for r in rs})
        ours = (f"{c['name']} ({c['label_map']}, {p['name']}, {p['n_folds']} fold(s), "
                f"seeds {', '.join(map(str, seeds))}; split {split or p.get('split_hash')})")
    table = Table(
        title=f"reproducing {model}: the paper's numbers beside ours",
        caption=f"paper columns: as reported, on the corpus in 'paper corpus'; "
                f"{corpus} columns: measured here, mean over folds (± std over seeds), on "
                f"{ours}; every row on this one split",
        title_justify="left", caption_justify="left",
    )
    table.add_column("row")
    table.add_column("paper corpus")
    for key in metrics:
        table.add_column(f"{key.upper()} % paper", justify="right")
        table.add_column(f"{key.upper()} % {corpus}", justify="right", style="bold")
    for name in ("feature set", "epochs budget: run / best", "params", "seeds", "note"):
        table.add_column(name)
    for row in table_rows(plan, records, metrics, notes):
        table.add_row(*row)
    return table


def table_metrics(plan: Plan) -> list[str]:
    """The metric columns: UA and WA, then every other metric a paper row reports."""
    metrics = ["ua", "wa"]
    for group in plan.rows:
        for result in group.paper:
            for key in result.metrics:
                if ALIASES.get(key.lower()) not in {"ua", "wa"} and key not in metrics:
                    metrics.append(key)
    return metrics


def table_rows(plan: Plan, records: Mapping[str, Sequence[Mapping[str, Any]]],
               metrics: Sequence[str], notes: Mapping[str, str] | None = None
               ) -> list[list[str]]:
    """The table's lines as text cells: row, paper corpus, (paper, measured) per metric,
    feature set, epochs, params, seeds, note. One line per paper row of every group."""
    lines: list[list[str]] = []
    for group in plan.rows:
        lines += _group_rows(group, records.get(group.label) or [], metrics,
                             (notes or {}).get(group.label, ""))
    return lines


def _group_rows(group: PlannedRun, records: Sequence[Mapping[str, Any]],
                metrics: Sequence[str], feature_note: str) -> list[list[str]]:
    """The lines of one row group (one per paper row; one line if it has none)."""
    lines = []
    for result in group.paper or [None]:
        label = group.label + (f" ({result.label})" if result and result.label else "")
        corpus = "–" if result is None else (
            result.corpus if result.corpus_public else f"{result.corpus} (corpus not public)")
        cells = [label, corpus]
        for key in metrics:
            paper = None if result is None else _paper_value(result, key)
            here = _measured_cell(records, key) if records else (
                "not run" if group.model is not None else "–")
            cells += [_paper_pct(paper), here]
        notes = [n for n in (result.note if result else "", group.note) if n]
        if records:
            if group.model == "fusion":
                notes.append(_fusion_note(records))
            cells += [_feature(records, feature_note), _epochs(records), _params(records),
                      ", ".join(str(r["training"]["seed"]) for r in records)]
        else:
            cells += ["–", "–", "–", "–"]
        lines.append([*cells, "; ".join(dict.fromkeys(notes))])
    return lines
