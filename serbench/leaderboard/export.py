"""Leaderboard exports for papers and spreadsheets: CSV, LaTeX, BibTeX and JSON.

Each export reads one snapshot (a published version, or the current entries) and its
summary rows, the same rows every render shows, so a number in a paper's table is the
number on the page. Scores are percentages in CSV and LaTeX (as in the renders) and
fractions in JSON (as in the files).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from serbench.leaderboard.table import metric_name, row_name

#: The page's row marks (``table.MARKS``) in LaTeX, and what each means (said once, under
#: the table); the CSV's ``flags`` column names them.
_LATEX_MARKS = {"one-class": (r"$^{\dagger}$", "predicts a single class"),
                "chance": (r"$^{\circ}$", "at chance (UA within 1 point)"),
                "superseded": (r"$^{\ddagger}$", "superseded by a newer version of the "
                               "same model and variant")}

FORMATS = ("csv", "latex", "bibtex", "json")

_DOI = re.compile(r"doi:\s*(10\.\d{4,9}/\S+?)[.,;]?(?:\s|$)", re.IGNORECASE)
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$",
                  "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _score(group: Mapping[str, Any], metric: str, key: str) -> float | None:
    return (group.get("scores", {}).get(metric) or {}).get(key)


def _pct(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{100 * value:.{digits}f}"


def _number(value: float | None, digits: int = 4) -> str:
    """``digits`` significant digits: a CSV cell, not a 17-digit float."""
    return "" if value is None else f"{value:.{digits}g}"


def row_flags(group: Mapping[str, Any]) -> list[str]:
    """The row's marks by name: ``one-class``, ``chance``, ``superseded``."""
    flags = [f for f in group.get("flags") or () if f in _LATEX_MARKS]
    if group.get("superseded_by") and "superseded" not in flags:
        flags.append("superseded")
    return flags


def flat_rows(snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One flat dict per leaderboard row, ranked: identity, scores (percent), cost."""
    summary = snapshot["summary"]
    rows = []
    for group in summary["groups"]:
        feature = group.get("feature") or {}
        timing = group.get("timing") or {}
        row: dict[str, Any] = {
            "rank": group.get("rank"),
            "row": row_name(group),
            "model": group.get("model"),
            "variant": group.get("variant") or "",
            "model_version": group.get("model_version"),
            "feature": feature.get("name", ""),
            "normalisation": feature.get("normalisation", ""),
            "n_folds": group.get("n_folds"),
            "seeds": len(group.get("seeds") or []),
            "epochs": "" if group.get("epochs") is None else group["epochs"],
            "epochs_default": group.get("epochs_default") or "",
            "flags": ";".join(row_flags(group)),
            "chance_ua": _pct(summary.get("chance")),
        }
        for metric in summary["metrics"]:
            row[f"{metric}_mean"] = _pct(_score(group, metric, "mean"))
            row[f"{metric}_fold_std"] = _pct(_score(group, metric, "fold_std"))
            row[f"{metric}_pooled"] = _pct(_score(group, metric, "pooled"))
            row[f"{metric}_seed_std"] = _pct(_score(group, metric, "seed_std"))
        row.update({
            "parameters": timing.get("n_parameters"),
            "train_s_per_epoch": _number(timing.get("train_seconds_per_epoch")),
            "latency_ms": _number(timing.get("inference_latency_ms")),
            "device": timing.get("device_name", ""),
            "clock": timing.get("clock", ""),
            "citation": group.get("citation") or "",
            "run_ids": " ".join(group.get("run_ids") or []),
        })
        rows.append(row)
    return rows


def to_csv(snapshot: Mapping[str, Any]) -> str:
    """Every row with every column: scores in percent (one decimal), timings to four
    significant digits, the row's marks in ``flags`` and the chance level beside them."""
    rows = flat_rows(snapshot)
    out = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def latex_escape(text: str) -> str:
    """Text safe inside a LaTeX table cell."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _title(snapshot: Mapping[str, Any]) -> str:
    version = snapshot.get("version")
    return f"{snapshot['benchmark']} " + (f"v{version}" if version else "(unpublished)")


def to_latex(snapshot: Mapping[str, Any]) -> str:
    """A booktabs table: rank, model (with the page's marks), features, each metric as
    mean $\\pm$ std over folds (percent), epoch budget, seeds, parameters; the caption
    names the benchmark, version and protocol, and a note under the table gives the
    chance level and what each mark means."""
    summary = snapshot["summary"]
    metrics: Sequence[str] = summary["metrics"]
    info = snapshot.get("info") or {}
    lines = [
        r"% requires \usepackage{booktabs}",
        r"\begin{table}[t]",
        r"\centering",
        r"\caption{" + latex_escape(
            f"{_title(snapshot)}: {info.get('corpus', '')}, {info.get('label_map', '')}, "
            f"{info.get('protocol', '')}") + r"; mean $\pm$ std over folds, in percent}",
        r"\begin{tabular}{rll" + "r" * len(metrics) + "rrr}",
        r"\toprule",
        " & ".join(["\\#", "Model", "Features", *[latex_escape(metric_name(m)) for m in metrics],
                    "Epochs", "Seeds", "Params"]) + r" \\",
        r"\midrule",
    ]
    for group in summary["groups"]:
        feature = group.get("feature") or {}
        name = latex_escape(row_name(group)) + "".join(
            _LATEX_MARKS[f][0] for f in row_flags(group))
        cells = [str(group.get("rank") or ""), name, latex_escape(feature.get("name", ""))]
        for metric in metrics:
            mean, std = _score(group, metric, "mean"), _score(group, metric, "fold_std")
            cells.append("" if mean is None else
                         f"{100 * mean:.1f}" + ("" if std is None else f" $\\pm$ {100 * std:.1f}"))
        n_params = (group.get("timing") or {}).get("n_parameters")
        cells += ["--" if group.get("epochs") is None else
                  str(group["epochs"]) + (f" of {group['epochs_default']}"
                                          if group.get("epochs_default") else ""),
                  str(len(group.get("seeds") or []) or ""),
                  "" if n_params is None else f"{n_params / 1e6:.2f}M"]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    legend = _latex_legend(summary)
    if legend:
        lines += [r"\par\smallskip", r"{\footnotesize " + legend + "}"]
    lines += [r"\label{tab:" + re.sub(r"[^A-Za-z0-9]+", "-", snapshot["benchmark"]) + "}",
              r"\end{table}"]
    return "\n".join(lines) + "\n"


def _latex_legend(summary: Mapping[str, Any]) -> str:
    """Chance level and the marks used in this table, each said once."""
    parts = []
    if summary.get("chance") is not None:
        parts.append(f"Chance: {_pct(summary['chance'])}\\% UA.")
    used = {f for g in summary["groups"] for f in row_flags(g)}
    parts += [f"{mark} {meaning}." for flag, (mark, meaning) in _LATEX_MARKS.items()
              if flag in used]
    return " ".join(parts)


def _bib_key(model: str, citation: str) -> str:
    year = re.search(r"(19|20)\d{2}", citation)
    return re.sub(r"[^A-Za-z0-9]+", "_", model) + (year.group(0) if year else "")


def to_bibtex(snapshot: Mapping[str, Any]) -> str:
    """One ``@misc`` entry per cited model of the leaderboard (its citation as the note,
    its DOI as a field), keyed ``<model><year>``; models without a citation are listed in
    a comment, so a reader sees nothing was dropped."""
    seen: dict[str, str] = {}
    uncited: list[str] = []
    for group in snapshot["summary"]["groups"]:
        model, citation = str(group.get("model")), (group.get("citation") or "").strip()
        if not citation:
            if model not in uncited:
                uncited.append(model)
            continue
        if citation not in seen:
            key = base = _bib_key(model, citation)
            suffix = iter("bcdefghijklmnopqrstuvwxyz")
            while key in seen.values():  # two works, one model-year key
                key = base + next(suffix)
            seen[citation] = key
    entries = []
    for citation, key in seen.items():
        fields = [f"  note = {{{citation}}}"]
        doi = _DOI.search(citation + " ")
        if doi:
            fields.append(f"  doi = {{{doi.group(1)}}}")
        entries.append(f"@misc{{{key},\n" + ",\n".join(fields) + "\n}")
    if uncited:
        entries.append("% no citation (serbench's own or unpublished models): "
                       + ", ".join(uncited))
    return "\n\n".join(entries) + "\n"


def to_json(snapshot: Mapping[str, Any]) -> str:
    """The benchmark's identity and its ranked rows (scores as fractions)."""
    doc = {
        "benchmark": snapshot["benchmark"],
        "version": snapshot.get("version"),
        "published": snapshot.get("published"),
        "info": snapshot.get("info"),
        "metrics": snapshot["summary"]["metrics"],
        "rows": snapshot["summary"]["groups"],
    }
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"


def export(snapshot: Mapping[str, Any], fmt: str) -> str:
    """The snapshot in ``fmt`` (one of :data:`FORMATS`)."""
    writers = {"csv": to_csv, "latex": to_latex, "bibtex": to_bibtex, "json": to_json}
    if fmt not in writers:
        from serbench.errors import ConfigError

        raise ConfigError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return writers[fmt](snapshot)
