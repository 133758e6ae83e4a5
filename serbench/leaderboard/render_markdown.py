"""A leaderboard as Markdown, for a README or a paper's supplement."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from serbench.leaderboard import table


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(snapshot: Mapping[str, Any]) -> str:
    """The Markdown page of a snapshot: header, table, warnings, method notes, runs."""
    summary, info = snapshot["summary"], snapshot["info"]
    lines = [f"# {table.title(snapshot)}", ""]
    lines += [
        f"- Corpus: `{info['corpus']}` (fingerprint `{info['corpus_fingerprint']}`), "
        f"label map `{info['label_map']}`, protocol `{info['protocol']}`",
        f"- Metrics: {', '.join(table.metric_name(m) for m in info['metrics'])}",
        f"- {len(summary['groups'])} configuration(s) from {summary['n_entries']} run(s); "
        f"serbench {snapshot['serbench_version']}",
    ]
    if snapshot.get("note"):
        lines.append(f"- Note: {snapshot['note']}")
    heads = table.columns(summary)
    lines += ["", "| " + " | ".join(_escape(h) for h in heads) + " |",
              "|" + "|".join("---" if h in table.TEXT_COLUMNS else "---:" for h in heads) + "|"]
    for group in summary["groups"]:
        lines.append("| " + " | ".join(_escape(c.text) for c in table.row(group, summary)) + " |")
    lines.append("")
    if summary["warnings"]:
        lines += ["## Warnings", ""] + [f"- {w}" for w in summary["warnings"]] + [""]
    lines += ["## How to read this table", ""] + [f"- {f}" for f in table.footnotes(summary)]
    lines += ["", "## Configurations", ""]
    for group in summary["groups"]:
        feature = group["feature"]
        tuning = group.get("tuning")
        lines += [
            f"### {group['rank']}. {table.row_name(group)}",
            "",
            f"- model `{group['model']}` v{group['model_version']}"
            + (f", variant `{group['variant']}`" if group["variant"] else "")
            + (f" ({group['distribution']} {group['distribution_version']})"
               if group.get("distribution") else ""),
            f"- features `{feature['name']}` v{feature.get('version')}, normalisation "
            f"`{feature.get('normalisation')}`, params `{_json(feature.get('params') or {})}`",
            f"- hyperparameters `{_json(group['hyperparameters'])}`"
            + (f"; tuned by study `{tuning.get('study')}` (trial {tuning.get('trial')})"
               if tuning else ""),
            f"- seeds {', '.join(map(str, group['seeds']))}; runs "
            + ", ".join(f"`{r}`" for r in group["run_ids"]),
        ]
        if group.get("citation"):
            lines.append(f"- citation: {group['citation']}")
        lines.append("")
    return "\n".join(lines)
