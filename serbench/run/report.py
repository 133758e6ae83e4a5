"""Rich tables of a run record: per-fold and aggregate scores, then the timing figures.

Scores are fractions in the record; tables print them as percentages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

SCORE_COLUMNS = (("ua", "UA"), ("wa", "WA"), ("macro_f1", "macro-F1"))


def pct(value: Any) -> str:
    """0.6123 -> ``"61.23"``; missing -> ``"–"``."""
    return "–" if value is None else f"{100 * float(value):.2f}"


def _title(record: Mapping[str, Any]) -> str:
    model, corpus = record["model"], record["corpus"]
    name = model["name"] + (f" · variant {model['variant']}" if model.get("variant") else "")
    return (f"{name} on {corpus['name']} ({corpus['label_map']}, "
            f"{len(corpus['classes'])} classes), {record['protocol']['name']}, "
            f"{record['feature']['name']}, seed {record['training']['seed']}")


def _epochs_cell(fold: Mapping[str, Any]) -> str:
    """``"12 (best 12)"``; with ``inner_folds``, the inner models' picks: ``"12 (median of
    9/19/12)"``."""
    selection = fold.get("selection") or {}
    if selection.get("rule") == "inner_folds":
        picks = "/".join(str(e) for e in selection.get("best_epochs", []))
        return f"{fold['epochs_run']} (median of {picks})"
    return f"{fold['epochs_run']} (best {fold['best_epoch']})"


def scores_table(record: Mapping[str, Any]) -> Table:
    """One row per fold, then mean ± std over folds and the pooled scores (in %)."""
    table = Table(title=_title(record), title_justify="left")
    table.add_column("fold")
    table.add_column("test speakers")
    for _key, label in SCORE_COLUMNS:
        table.add_column(f"{label} %", justify="right")
    table.add_column("epochs", justify="right")
    for fold in record["folds"]:
        metrics = fold["metrics"]
        epochs = "–" if not fold.get("epochs_run") else _epochs_cell(fold)
        table.add_row(fold["name"], ", ".join(fold.get("test_speakers", [])),
                      *(pct(metrics.get(k)) for k, _ in SCORE_COLUMNS), epochs)
    agg = record["aggregate"]
    table.add_section()
    table.add_row("mean ± std", "", *(
        f"{pct(agg['mean'].get(k))} ± {pct(agg['std'].get(k))}" for k, _ in SCORE_COLUMNS
    ), "", style="bold")
    table.add_row("pooled", "", *(pct(agg["pooled"].get(k)) for k, _ in SCORE_COLUMNS), "")
    return table


def _num(value: Any, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def timing_table(record: Mapping[str, Any]) -> Table:
    """Timing figures (mean over folds) and where they were measured."""
    t = record["timing"]
    table = Table(title="timing (mean over folds)", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("train s/epoch", _num(t.get("train_seconds_per_epoch"), ".3f")),
        ("inference latency ms/utt (batch 1)", _num(t.get("inference_latency_ms"), ".3f")),
        ("throughput utt/s (batched)", _num(t.get("throughput_utt_per_s"), ",.1f")),
        ("parameters", _num(t.get("n_parameters"), ",d")),
        (f"peak memory MB ({t.get('peak_memory_kind')})", _num(t.get("peak_memory_mb"), ",.1f")),
        ("device", f"{t.get('device')} ({t.get('device_name') or '?'})"),
        ("clock", str(t.get("clock"))),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def record_report(record: Mapping[str, Any], where: str | None = None) -> Group:
    """Scores table, timing table, the record's warnings and (optionally) where the
    record was written."""
    parts: list[Any] = [scores_table(record), timing_table(record)]
    for warning in record.get("warnings") or []:  # absent from older records
        parts.append(Text(f"warning: {warning}", style="yellow"))
    excluded = (record.get("feature") or {}).get("excluded")
    if excluded is not None:  # absent from records written before the field
        parts.append(Text(f"excluded utterances: {len(excluded)}"
                          + (f" (feature.excluded in the record, hash "
                             f"{record['feature'].get('excluded_hash')})" if excluded else ""),
                          style="yellow" if excluded else ""))
    if where:
        parts.append(f"record: [bold]{where}[/]")
    return Group(*parts)
