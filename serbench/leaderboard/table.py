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


#: Columns that leave the table for the header line when every row has the same value.
FOLDABLE = frozenset({"Features", "Device", "Clock", "± over seeds", "±seeds"})
#: Marks after a row's name, and what they mean (footnotes say it once).
MARKS = {"one-class": "†", "chance": "○", "superseded": "‡"}


def marks(group: Mapping[str, Any]) -> str:
    """The row's marks: † predicts one class, ○ at chance, ‡ superseded."""
    out = [MARKS[f] for f in group.get("flags") or () if f in MARKS]
    if group.get("superseded_by"):
        out.append(MARKS["superseded"])
    return "".join(out)


def short_name(group: Mapping[str, Any]) -> str:
    """``model[/variant] v<version>`` plus the row's short tag (``[a]``) where rows of the
    same name need telling apart; the tag's fields are listed in full under the table."""
    name = f"{group['label']} v{group['model_version']}"
    if group.get("tag"):
        name += f" [{group['tag']}]"
    return name + (f" {marks(group)}" if marks(group) else "")


def show_comparison(summary: Mapping[str, Any]) -> bool:
    """Whether "vs best" says anything: some row had pairs enough to reach alpha
    (published snapshots from before this field always show it)."""
    return bool(summary.get("testable", True))


def has_paper(summary: Mapping[str, Any]) -> bool:
    """Whether some row has its paper's reported score (then a column shows it)."""
    return any(g.get("paper") for g in summary["groups"])


def columns(summary: Mapping[str, Any], *, short: bool = False) -> list[str]:
    """Header texts, in order (``short``: compact ones for a terminal). The primary
    score follows the model's name so that a narrow screen shows it first."""
    primary = metric_name(summary["primary"])
    cmp = show_comparison(summary)
    paper = [f"Paper {primary} %"] if has_paper(summary) else []
    if short:
        heads = ["#", "Model", f"{primary} %", *paper, f"{primary} pooled [CI]", "Features",
                 "Seeds", "Epochs", "±seeds"]
        heads += [f"{metric_name(m)} %" for m in summary["metrics"][1:]]
        return heads + (["vs best"] if cmp else []) + [
            "s/epoch", "ms/utt", "utt/s", "Params", "Peak MB", "Device", "Clock"]
    heads = ["#", "Model", f"{primary} % (mean ± std over folds)", *paper,
             f"{primary} % pooled [95% CI]", "Features", "Seeds", "Epochs", "± over seeds"]
    heads += [f"{metric_name(m)} %" for m in summary["metrics"][1:]]
    heads += (["vs best (paired test)"] if cmp else []) + [
        "Train s/epoch", "Latency ms/utt", "Throughput utt/s", "Params", "Peak MB", "Device",
        "Clock"]
    return heads


def clock_text(timing: Mapping[str, Any]) -> str:
    """The clock's display name, with the precision of a mixed-precision run."""
    clock = timing.get("clock")
    text = ", ".join(CLOCK_NAMES.get(c, c) for c in clock.split(", ")) if clock else "–"
    if timing.get("precision") and timing["precision"] != "fp32":  # mixed precision says so
        text += f" ({timing['precision']})"
    return text


def feature_text(group: Mapping[str, Any]) -> str:
    """``name (normalisation)``; a feature computed by a named upstream model (the ssl
    feature's ``model`` param, a hub id or local folder) shows it: ``name[model=X]``, so
    a stand-in checkpoint is visible on the row itself, not only in its details."""
    feature = group["feature"]
    norm = feature.get("normalisation")
    upstream = (feature.get("params") or {}).get("model")
    name = f"{feature['name']}[model={upstream}]" if isinstance(upstream, str) else feature["name"]
    return f"{name} ({norm})" if norm else name


def row(group: Mapping[str, Any], summary: Mapping[str, Any], *,
        short: bool = False) -> list[Cell]:
    """One group's cells, matching :func:`columns` (``short``: the short name)."""
    primary = summary["primary"]
    score = group["scores"][primary]
    ci = group.get("ci")
    ci_text = f" [{pct(ci['low'])}, {pct(ci['high'])}]" if ci else ""
    timing = group["timing"]
    comp = group.get("comparison")
    mark = marks(group)
    name = short_name(group) if short else row_name(group) + (f" {mark}" if mark else "")
    feature = feature_text(group)
    epochs = group.get("epochs")
    cells = [
        Cell(str(group["rank"]), group["rank"]),
        Cell(name, name),
        Cell(f"{pct(score['mean'])} ± {pct(score['fold_std'])}", score["mean"]),
    ]
    if has_paper(summary):  # the paper's number beside the measured one
        reported = (group.get("paper") or {}).get("value")
        cells.append(Cell(pct(reported), reported))
    cells += [
        Cell(f"{pct(score['pooled'])}{ci_text}", score["pooled"]),
        Cell(feature, feature),
        Cell(f"{len(group['seeds'])}", len(group["seeds"])),
        Cell(epochs_text(group), epochs),
        Cell(pct(score["seed_std"]), score["seed_std"]),
    ]
    cells += [Cell(pct(group["scores"][m]["mean"]), group["scores"][m]["mean"])
              for m in summary["metrics"][1:]]
    if show_comparison(summary):
        cells.append(Cell(comparison_text(group), 0.0 if group["rank"] == 1 else
                          (comp["p_holm"] if comp else None)))
    clock = clock_text(timing)
    cells += [
        Cell(number(timing["train_seconds_per_epoch"]), timing["train_seconds_per_epoch"]),
        Cell(number(timing["inference_latency_ms"], 3), timing["inference_latency_ms"]),
        Cell(number(timing["throughput_utt_per_s"], 1), timing["throughput_utt_per_s"]),
        Cell(params(timing["n_parameters"]), timing["n_parameters"]),
        Cell(number(timing["peak_memory_mb"], 1), timing["peak_memory_mb"]),
        Cell(timing.get("device_name") or "–", timing.get("device_name") or ""),
        Cell(clock, clock),
    ]
    return cells


@dataclass(frozen=True)
class Layout:
    """The table as rendered: kept headers, rows of cells, and the constant columns
    (``header -> value``) that moved to the line above the table."""

    heads: list[str]
    rows: list[list[Cell]]
    constant: dict[str, str]


def layout(summary: Mapping[str, Any], *, short: bool = False) -> Layout:
    """Columns and rows, with :data:`FOLDABLE` columns that are equal on every row (of
    two or more) moved out of the table into ``constant``."""
    heads = columns(summary, short=short)
    rows = [row(g, summary, short=short) for g in summary["groups"]]
    constant = {h: rows[0][i].text for i, h in enumerate(heads)
                if h in FOLDABLE and len(rows) > 1 and len({r[i].text for r in rows}) == 1}
    keep = [i for i, h in enumerate(heads) if h not in constant]
    return Layout([heads[i] for i in keep], [[r[i] for i in keep] for r in rows], constant)


def constant_line(constant: Mapping[str, str]) -> str:
    """``All rows: Device: X; Clock: Y.`` (empty when nothing is constant)."""
    if not constant:
        return ""
    return "All rows: " + "; ".join(f"{k}: {'none' if v == '–' else v}"  # "–": no value
                                    for k, v in constant.items()) + "."


def legend(summary: Mapping[str, Any]) -> list[str]:
    """``name [tag]: every differing field`` for rows that share a name."""
    return [f"{g['label']} v{g['model_version']} [{g['tag']}]: {g['distinct']}"
            for g in summary["groups"] if g.get("tag")]


def title(snapshot: Mapping[str, Any]) -> str:
    """``<benchmark> leaderboard, v<N> (<date>)`` or ``(unpublished)``."""
    version = snapshot.get("version")
    when = (f"v{version}, published {snapshot['published'][:10]}" if version
            else "unpublished working copy")
    return f"{snapshot['benchmark']} leaderboard ({when})"


def epochs_text(group: Mapping[str, Any]) -> str:
    """``60``; ``10 of 60`` for a run cut below the model's own budget; ``–`` without epochs."""
    epochs, default = group.get("epochs"), group.get("epochs_default")
    if epochs is None:
        return "–"
    return f"{epochs} of {default}" if default else str(epochs)


def footnotes(summary: Mapping[str, Any]) -> list[str]:
    """How to read the table (methods, significance, marks), each said once."""
    m = summary["methods"]
    out = [
        f"Ranked by {metric_name(summary['primary'])} averaged over folds (and seeds). "
        "Pooled = over all test utterances at once. Epochs: the budget (max_epochs).",
    ]
    reduced = [g for g in summary["groups"] if g.get("epochs_default")]
    if reduced:
        out.append("Epochs 'N of M': a reduced budget, N epochs where the model's own "
                   "default (from its paper, or serbench's where the paper is silent) is M.")
    if show_comparison(summary):
        out.append(f"vs best: {m['test']}; * = significant at alpha={m['alpha']}.")
    else:
        folds = max((g["n_folds"] for g in summary["groups"]), default=0)
        need = summary.get("pairs_needed", 0)
        seeds = -(-need // folds) if folds else need
        out.append(f"No paired test column: with {folds} folds and these seeds the exact "
                   f"paired test cannot reach p<{m['alpha']} (it needs {need} fold x seed "
                   f"pairs, e.g. {seeds} seeds per configuration on the same seeds).")
    cis = sorted({g["ci"]["method"] for g in summary["groups"] if g.get("ci")})
    out.append(f"CI: {m['bootstrap']} ({'; '.join(cis)}).")
    if summary.get("chance") is not None:
        out.append(f"Chance level (1/{len(summary.get('classes') or [])} classes): "
                   f"{pct(summary['chance'])}% UA.")
    groups = summary["groups"]
    if any("one-class" in (g.get("flags") or ()) for g in groups):
        out.append(f"{MARKS['one-class']} predicts a single class (in every fold, as the "
                   "run records say; older entries: per speaker, one class all right, the "
                   "others all wrong).")
    if any("chance" in (g.get("flags") or ()) for g in groups):
        out.append(f"{MARKS['chance']} at chance: UA within 1 point of "
                   f"{pct(summary.get('chance'))}%.")
    if any(g.get("superseded_by") for g in groups):
        out.append(f"{MARKS['superseded']} superseded: a newer version of the same model "
                   "and variant is on the board.")
    out.append("Timing: train seconds per epoch, inference latency per utterance and "
               "throughput, as measured by serbench (CUDA events on a GPU, a monotonic CPU "
               "clock otherwise).")
    return out
