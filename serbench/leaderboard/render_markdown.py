"""A leaderboard as Markdown, for a README or a paper's supplement.

Names, notes, labels and warnings come from users' files, so none of them reaches the
page as markup: text is HTML-escaped (a forge renders raw HTML in Markdown), table
cells also escape ``|``, and code spans take a backtick fence longer than any backtick
run inside them (CommonMark), so a name cannot close its span early.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from serbench.leaderboard import table


def _text(value: Any) -> str:
    """Plain text: ``<``, ``>`` and ``&`` as entities; line breaks as spaces."""
    return html.escape(" ".join(str(value).splitlines()), quote=False)


def _escape(text: str) -> str:
    """A table cell's text (also ``|``, which would split the cell)."""
    return _text(text).replace("|", "\\|")


def _code(value: Any) -> str:
    """``value`` as an inline code span that nothing inside can close."""
    text = " ".join(str(value).splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _json(value: Any) -> str:
    return _code(json.dumps(value, sort_keys=True))


def render_markdown(snapshot: Mapping[str, Any]) -> str:
    """The Markdown page of a snapshot: header, table, warnings, method notes, runs."""
    summary, info = snapshot["summary"], snapshot["info"]
    lines = [f"# {_text(table.title(snapshot))}", ""]
    lines += [
        f"- Corpus: {_code(info['corpus'])} (fingerprint {_code(info['corpus_fingerprint'])}), "
        f"label map {_code(info['label_map'])}, protocol {_code(info['protocol'])}",
        f"- Metrics: {_text(', '.join(table.metric_name(m) for m in info['metrics']))}",
        f"- {len(summary['groups'])} configuration(s) from {summary['n_entries']} run(s); "
        f"serbench {_text(snapshot['serbench_version'])}",
    ]
    if snapshot.get("note"):
        lines.append(f"- Note: {_text(snapshot['note'])}")
    lay = table.layout(summary)
    if lay.constant:
        lines.append(f"- {_text(table.constant_line(lay.constant))}")
    heads = lay.heads
    lines += ["", "| " + " | ".join(_escape(h) for h in heads) + " |",
              "|" + "|".join("---" if h in table.TEXT_COLUMNS else "---:" for h in heads) + "|"]
    for cells in lay.rows:
        lines.append("| " + " | ".join(_escape(c.text) for c in cells) + " |")
    lines.append("")
    if summary["warnings"]:
        lines += ["## Warnings", ""] + [f"- {_text(w)}" for w in summary["warnings"]] + [""]
    lines += ["## How to read this table", ""]
    lines += [f"- {_text(f)}" for f in table.footnotes(summary)]
    lines += ["", "## Configurations", ""]
    for group in summary["groups"]:
        feature = group["feature"]
        tuning = group.get("tuning")
        lines += [
            f"### {group['rank']}. {_text(table.row_name(group))}",
            "",
            f"- model {_code(group['model'])} v{group['model_version']}"
            + (f", variant {_code(group['variant'])}" if group["variant"] else "")
            + (f" ({_text(group['distribution'])} {_text(group['distribution_version'])})"
               if group.get("distribution") else ""),
            f"- features {_code(feature['name'])} v{feature.get('version')}, normalisation "
            f"{_code(feature.get('normalisation'))}, params {_json(feature.get('params') or {})}",
            f"- hyperparameters {_json(group['hyperparameters'])}"
            + (f"; tuned by study {_code(tuning.get('study'))} (trial {tuning.get('trial')})"
               if tuning else ""),
            f"- seeds {', '.join(map(str, group['seeds']))}; runs "
            + ", ".join(_code(r) for r in group["run_ids"]),
        ]
        recall = group.get("per_class_recall")
        if recall:
            lines.append("- recall per class (%, all test utterances): " + _text(", ".join(
                f"{c} {table.pct(r)}" for c, r in recall.items())))
        if group.get("paper"):
            lines.append(f"- the paper reports {table.pct(group['paper']['value'])} "
                         f"({_text(group['paper']['label'])})")
        if group.get("citation"):
            lines.append(f"- citation: {_text(group['citation'])}")
        lines.append("")
    return "\n".join(lines)
