"""The leaderboard's columns, shared by the terminal, Markdown and HTML renderers.

Scores are fractions in [0, 1] in the files and percentages in tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

METRIC_NAMES = {"ua": "UA", "wa": "WA", "macro_f1": "F1 (macro)",
                "macro_precision": "Precision (macro)"}
CLOCK_NAMES = {"cuda_events": "CUDA events", "cpu_monotonic": "CPU clock"}
#: Columns sorted as text (the others sort by number).
TEXT_COLUMNS = frozenset({"Model", "Features", "Device", "Clock"})


@dataclass(frozen=True)
class Cell:
    """A table cell: its text and the value to sort by (``None`` sorts last)."""

    text: str
    sort: float | str | None


def metric_name(metric: str) -> str:
    """Display name of a metric (``ua`` -> ``UA``)."""
    return METRIC_NAMES.get(metric, metric.replace("_", " "))


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage, or an en dash when absent."""
    return "–" if value is None else f"{100 * value:.{digits}f}"


def number(value: float | None, digits: int = 2) -> str:
    """A plain number with sensible precision, or an en dash."""
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def params(value: float | None) -> str:
    """A parameter count as 1.2k / 3.4M."""
    if value is None:
        return "–"
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(int(value))


def row_name(group: Mapping[str, Any]) -> str:
    """``model[/variant] v<version>``, plus what sets it apart from a same-named row."""
    name = f"{group['label']} v{group['model_version']}"
    return f"{name} ({group['distinct']})" if group.get("distinct") else name


def comparison_text(group: Mapping[str, Any], *, marker: str = "*") -> str:
    """The "vs top" cell: ``best``, ``p=0.012*`` (significant), or why there is no test."""
    if group["rank"] == 1:
        return "best"
    comp = group.get("comparison")
    if comp is None:
        return "no shared folds"
    text = f"p={comp['p_holm']:.3f}"
    if comp.get("significant"):
        return text + marker
    if not comp["attainable"]:
        return text + f" ({comp['n_pairs']} pairs: too few)"
    return text


def columns(summary: Mapping[str, Any], *, short: bool = False) -> list[str]:
    """Header texts, in order (``short``: compact ones for a terminal)."""
    primary = metric_name(summary["primary"])
    if short:
        heads = ["#", "Model", "Features", "Seeds", f"{primary} %", f"{primary} pooled [CI]",
                 "±seeds"]
        heads += [f"{metric_name(m)} %" for m in summary["metrics"][1:]]
        return heads + ["vs best", "s/epoch", "ms/utt", "utt/s", "Params", "Peak MB",
                        "Device", "Clock"]
    heads = ["#", "Model", "Features", "Seeds", f"{primary} % (mean ± std over folds)",
             f"{primary} % pooled [95% CI]", "± over seeds"]
    heads += [f"{metric_name(m)} %" for m in summary["metrics"][1:]]
    heads += ["vs best (paired test)", "Train s/epoch", "Latency ms/utt", "Throughput utt/s",
              "Params", "Peak MB", "Device", "Clock"]
    return heads


def row(group: Mapping[str, Any], summary: Mapping[str, Any]) -> list[Cell]:
    """One group's cells, matching :func:`columns`."""
    primary = summary["primary"]
    score = group["scores"][primary]
    ci = group.get("ci")
    ci_text = f" [{pct(ci['low'])}, {pct(ci['high'])}]" if ci else ""
    feature = group["feature"]["name"]
    if group["feature"].get("normalisation"):
        feature += f" ({group['feature']['normalisation']})"
    timing = group["timing"]
    comp = group.get("comparison")
    cells = [
        Cell(str(group["rank"]), group["rank"]),
        Cell(row_name(group), row_name(group)),
        Cell(feature, feature),
        Cell(f"{len(group['seeds'])}", len(group["seeds"])),
        Cell(f"{pct(score['mean'])} ± {pct(score['fold_std'])}", score["mean"]),
        Cell(f"{pct(score['pooled'])}{ci_text}", score["pooled"]),
        Cell(pct(score["seed_std"]), score["seed_std"]),
    ]
    cells += [Cell(pct(group["scores"][m]["mean"]), group["scores"][m]["mean"])
              for m in summary["metrics"][1:]]
    clock = timing.get("clock")
    clock_text = ", ".join(CLOCK_NAMES.get(c, c) for c in clock.split(", ")) if clock else "–"
    if timing.get("precision") and timing["precision"] != "fp32":  # mixed precision says so
        clock_text += f" ({timing['precision']})"
    cells += [
        Cell(comparison_text(group), 0.0 if group["rank"] == 1 else
             (comp["p_holm"] if comp else None)),
        Cell(number(timing["train_seconds_per_epoch"]), timing["train_seconds_per_epoch"]),
        Cell(number(timing["inference_latency_ms"], 3), timing["inference_latency_ms"]),
        Cell(number(timing["throughput_utt_per_s"], 1), timing["throughput_utt_per_s"]),
        Cell(params(timing["n_parameters"]), timing["n_parameters"]),
        Cell(number(timing["peak_memory_mb"], 1), timing["peak_memory_mb"]),
        Cell(timing.get("device_name") or "–", timing.get("device_name") or ""),
        Cell(clock_text, clock_text),
    ]
    return cells


def title(snapshot: Mapping[str, Any]) -> str:
    """``<benchmark> leaderboard, v<N> (<date>)`` or ``(unpublished)``."""
    version = snapshot.get("version")
    when = (f"v{version}, published {snapshot['published'][:10]}" if version
            else "unpublished working copy")
    return f"{snapshot['benchmark']} leaderboard ({when})"


def footnotes(summary: Mapping[str, Any]) -> list[str]:
    """How to read the table (methods, significance marker)."""
    m = summary["methods"]
    return [
        f"Ranked by {metric_name(summary['primary'])} averaged over folds (and seeds). "
        "Pooled = over all test utterances at once.",
        f"vs best: {m['test']}; * = significant at alpha={m['alpha']}.",
        f"CI: {m['bootstrap']} ({'; '.join(sorted({g['ci']['method'] for g in summary['groups'] if g.get('ci')}))}).",
        "Timing: train seconds per epoch, inference latency per utterance and throughput, "
        "as measured by serbench (CUDA events on a GPU, a monotonic CPU clock otherwise).",
    ]
