"""A leaderboard as one static, self-contained HTML page.

CSS, JS (``page.css``, ``page.js`` beside this module) and the SVG charts are inlined:
the page works from a file, offline, forever (no CDN, no fetch). The table is sortable
by clicking a header; each configuration has a details block (hyperparameters, folds,
timing, runs); two charts plot the primary score against latency and against parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from importlib import resources
from typing import Any

from serbench.leaderboard import table
from serbench.leaderboard.charts import Point, scatter_svg


def _asset(name: str) -> str:
    return resources.files("serbench.leaderboard").joinpath(name).read_text(encoding="utf-8")


def _sort_attr(value: float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return escape(str(value), quote=True)


def _table(summary: Mapping[str, Any]) -> str:
    heads = table.columns(summary)
    out = ['<table id="leaderboard"><thead><tr>']
    for head in heads:
        kind = "text" if head in table.TEXT_COLUMNS else "number"
        out.append(f'<th scope="col" tabindex="0" data-type="{kind}" aria-sort="none">'
                   f"{escape(head)}</th>")
    out.append("</tr></thead><tbody>")
    for group in summary["groups"]:
        comp = group.get("comparison") or {}
        classes = ["best"] if group["rank"] == 1 else []
        if comp.get("significant"):
            classes.append("significant")
        out.append(f'<tr id="row-{group["key"]}" class="{" ".join(classes)}">')
        for head, cell in zip(heads, table.row(group, summary), strict=True):
            css = "" if head in table.TEXT_COLUMNS else "num"
            if head.startswith("vs best"):
                css += " cmp"
            elif head in ("Features", "Device"):
                css += " wrap"
            elif head == "Model":
                css += " model"
            text = escape(cell.text)
            if head == "Model":
                text = f'<a href="#entry-{group["key"]}">{text}</a>'
            out.append(f'<td class="{css.strip()}" data-sort="{_sort_attr(cell.sort)}">{text}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _charts(summary: Mapping[str, Any]) -> str:
    primary = table.metric_name(summary["primary"])

    def points(field: str) -> list[Point]:
        return [Point(table.row_name(g), g["timing"][field], 100 * g["scores"][summary["primary"]]["mean"],
                      f" ({g['timing'].get('device_name') or 'unknown device'})")
                for g in summary["groups"]
                if g["timing"].get(field) and g["scores"][summary["primary"]]["mean"] is not None]

    return (
        '<div class="chart-row">'
        + scatter_svg(points("inference_latency_ms"), chart_id="chart-latency",
                      title=f"{primary} against inference latency",
                      x_label="latency per utterance (ms, log scale)", y_label=f"{primary} %")
        + scatter_svg(points("n_parameters"), chart_id="chart-params",
                      title=f"{primary} against model size",
                      x_label="parameters (log scale)", y_label=f"{primary} %")
        + "</div>"
    )


def _details(group: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    primary = summary["primary"]
    score = group["scores"][primary]
    feature, timing, ci = group["feature"], group["timing"], group.get("ci")
    comp = group.get("comparison")
    rows = [
        ("Model", f"{group['model']} v{group['model_version']}"
                  + (f", variant {group['variant']}" if group["variant"] else "")
                  + (f" — {group['distribution']} {group['distribution_version']}"
                     if group.get("distribution") else "")),
        ("Features", f"{feature['name']} v{feature.get('version')}, normalisation "
                     f"{feature.get('normalisation')}, params "
                     f"{json.dumps(feature.get('params') or {}, sort_keys=True)}"),
        ("Seeds", ", ".join(map(str, group["seeds"]))),
        ("Runs", ", ".join(group["run_ids"])),
        ("Split hash(es)", ", ".join(group["split_hashes"])),
        (f"{table.metric_name(primary)} pooled",
         f"{table.pct(score['pooled'])}"
         + (f" [{table.pct(ci['low'])}, {table.pct(ci['high'])}] ({ci['method']}, "
            f"{ci['clusters']} clusters)" if ci else " (no CI: too little data)")),
        ("vs best", "this is the best entry" if group["rank"] == 1 else
         ("no folds in common with the best entry" if comp is None else
          f"the best entry is {100 * comp['delta']:+.2f} points ahead on paired folds, "
          f"p={comp['p']:.4f} "
          f"(Holm {comp['p_holm']:.4f}), {comp['n_pairs']} {comp['pairing']} pairs"
          + (", significant" if comp.get("significant") else ""))),
        ("Timing", f"{table.number(timing['train_seconds_per_epoch'])} s/epoch, "
                   f"{table.number(timing['inference_latency_ms'], 3)} ms/utt, "
                   f"{table.number(timing['throughput_utt_per_s'], 1)} utt/s, "
                   f"{table.params(timing['n_parameters'])} parameters, peak "
                   f"{table.number(timing['peak_memory_mb'], 1)} MB "
                   f"({timing.get('peak_memory_kind') or '–'}) on "
                   f"{timing.get('device_name') or '–'}, clock {timing.get('clock') or '–'}"),
    ]
    if group.get("tuning"):
        rows.append(("Tuning", json.dumps(group["tuning"], sort_keys=True)))
    if group.get("citation"):
        rows.append(("Citation", group["citation"]))
    seeds = list(group["fold_scores"])
    folds = sorted({f for s in seeds for f in group["fold_scores"][s]})
    fold_table = ("<table><thead><tr><th>fold</th>"
                  + "".join(f"<th>seed {escape(s)}</th>" for s in seeds)
                  + "</tr></thead><tbody>"
                  + "".join(f"<tr><td>{escape(f)}</td>"
                            + "".join(f"<td>{table.pct(group['fold_scores'][s].get(f))}</td>"
                                      for s in seeds) + "</tr>" for f in folds)
                  + "</tbody></table>")
    return (
        f'<details id="entry-{group["key"]}"><summary>{group["rank"]}. {escape(table.row_name(group))}'
        f" — {table.metric_name(primary)} {table.pct(score['mean'])} ± "
        f"{table.pct(score['fold_std'])}</summary><dl class=\"meta\">"
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in rows)
        + "</dl><p>Hyperparameters:</p><pre>"
        + escape(json.dumps(group["hyperparameters"], sort_keys=True, indent=2))
        + f"</pre><p>{table.metric_name(primary)} per fold (%):</p>" + fold_table + "</details>"
    )


def render_html(snapshot: Mapping[str, Any]) -> str:
    """The complete HTML document of a snapshot."""
    summary, info = snapshot["summary"], snapshot["info"]
    title = table.title(snapshot)
    meta = [("Corpus", f"{info['corpus']} (fingerprint {info['corpus_fingerprint']})"),
            ("Label map", str(info["label_map"])), ("Protocol", info["protocol"]),
            ("Metrics", ", ".join(table.metric_name(m) for m in info["metrics"])),
            ("Entries", f"{len(summary['groups'])} configuration(s), "
                        f"{summary['n_entries']} run(s)"),
            ("serbench", str(snapshot["serbench_version"]))]
    if snapshot.get("note"):
        meta.append(("Note", snapshot["note"]))
    warnings = ""
    if summary["warnings"]:
        warnings = ('<div class="warnings" id="warnings"><strong>Warnings</strong><ul>'
                    + "".join(f"<li>{escape(w)}</li>" for w in summary["warnings"])
                    + "</ul></div>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="serbench {escape(str(snapshot["serbench_version"]))}">'
        f"<title>{escape(title)}</title><style>{_asset('page.css')}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><dl class=\"meta\">"
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in meta)
        + f"</dl>{warnings}</header><main><section><h2>Leaderboard</h2>"
        '<p class="hint">Click a column header to sort; click a model for its details.</p>'
        f'<div class="table-wrap">{_table(summary)}</div><ul class="notes">'
        + "".join(f"<li>{escape(n)}</li>" for n in table.footnotes(summary))
        + "</ul></section><section><h2>Accuracy against cost</h2>"
        + _charts(summary)
        + "</section><section><h2>Configurations</h2>"
        + "".join(_details(g, summary) for g in summary["groups"])
        + "</section></main><footer>Generated by serbench from run records; "
        "published leaderboards are immutable.</footer>"
        f"<script>{_asset('page.js')}</script></body></html>\n"
    )
