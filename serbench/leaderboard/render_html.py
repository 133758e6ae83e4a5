"""A leaderboard as one static, self-contained HTML page.

CSS, JS (``page.css``, ``page.js`` beside this module) and the SVG charts are inlined:
the page works from a file, offline, forever (no CDN, no fetch). The table is sortable
by clicking a header and filtered by model family and feature set; columns equal on every
row move to the header; each configuration has a details block (``html_details.py``);
two charts plot the primary score against latency and against parameters, with the
chance level and the Pareto front. The primary score follows the model's name so that a
phone-width screen shows it without scrolling.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from importlib import resources
from typing import Any

from serbench.leaderboard import table
from serbench.leaderboard.charts import Point, scatter_svg
from serbench.leaderboard.html_details import details


def _asset(name: str) -> str:
    return resources.files("serbench.leaderboard").joinpath(name).read_text(encoding="utf-8")


def _sort_attr(value: float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return escape(str(value), quote=True)


def _model_cell(group: Mapping[str, Any]) -> str:
    """Name (a link to the details), marks as badges, and the fields that tell it apart
    from a same-named row in full; the whole configuration in the tooltip."""
    name = f"{group['label']} v{group['model_version']}"
    badges = []
    if "one-class" in (group.get("flags") or ()):
        badges.append(("one-class", "one class", "predicts a single class"))
    if "chance" in (group.get("flags") or ()):
        badges.append(("chance", "chance", "UA at chance level"))
    if group.get("superseded_by"):
        badges.append(("superseded", f"→ v{group['superseded_by']}",
                       f"superseded by v{group['superseded_by']}"))
    out = [f'<a href="#entry-{group["key"]}" title="{escape(group.get("config") or "", quote=True)}">'
           f"{escape(name).replace('/', '/<wbr>')}</a>"]  # a narrow column breaks at "/"
    out += [f' <span class="badge {css}" title="{escape(tip, quote=True)}">{escape(text)}</span>'
            for css, text, tip in badges]
    if group.get("distinct"):
        out.append(f'<span class="cfg">{escape(group["distinct"])}</span>')
    return "".join(out)


def _table(summary: Mapping[str, Any], lay: table.Layout) -> str:
    out = ['<table id="leaderboard"><thead><tr>']
    for head in lay.heads:
        kind = "text" if head in table.TEXT_COLUMNS else "number"
        out.append(f'<th scope="col" tabindex="0" data-type="{kind}" aria-sort="none">'
                   f"{escape(head)}</th>")
    out.append("</tr></thead><tbody>")
    primary = table.columns(summary)[2]
    for group, cells in zip(summary["groups"], lay.rows, strict=True):
        comp = group.get("comparison") or {}
        classes = ["best"] if group["rank"] == 1 else []
        if comp.get("significant"):
            classes.append("significant")
        if group.get("flags"):
            classes.append("flagged")
        if group.get("superseded_by"):
            classes.append("superseded")
        out.append(f'<tr id="row-{group["key"]}" class="{" ".join(classes)}" '
                   f'data-model="{escape(group["model"], quote=True)}" '
                   f'data-feature="{escape(group["feature"]["name"], quote=True)}">')
        for head, cell in zip(lay.heads, cells, strict=True):
            css = "" if head in table.TEXT_COLUMNS else "num"
            if head.startswith("vs best"):
                css += " cmp"
            elif head in ("Features", "Device"):
                css += " wrap"
            elif head == "Model":
                css += " model"
            elif head == primary:
                css += " primary"
            text = _model_cell(group) if head == "Model" else escape(cell.text)
            out.append(f'<td class="{css.strip()}" data-sort="{_sort_attr(cell.sort)}">{text}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _filters(summary: Mapping[str, Any]) -> str:
    """Two selects (model family, feature set) that page.js applies to rows and points."""
    def select(kind: str, label: str, values: list[str]) -> str:
        options = "".join(f'<option value="{escape(v, quote=True)}">{escape(v)}</option>'
                          for v in values)
        return (f'<label>{label} <select id="filter-{kind}" data-filter="{kind}">'
                f'<option value="">all</option>{options}</select></label>')

    models = sorted({g["model"] for g in summary["groups"]})
    features = sorted({g["feature"]["name"] for g in summary["groups"]})
    return ('<div class="filters">' + select("model", "Model family", models)
            + select("feature", "Feature set", features)
            + '<span id="filter-count" class="hint"></span></div>')


def _charts(summary: Mapping[str, Any]) -> str:
    primary = table.metric_name(summary["primary"])
    chance = summary.get("chance")

    def points(field: str) -> list[Point]:
        return [Point(f"{g['label']} v{g['model_version']}"
                      + (f" [{g['tag']}]" if g.get("tag") else ""),
                      g["timing"][field], 100 * g["scores"][summary["primary"]]["mean"],
                      f" ({g['timing'].get('device_name') or 'unknown device'})",
                      tag=str(g["rank"]), group=g["key"])
                for g in summary["groups"]
                if g["timing"].get(field) and g["scores"][summary["primary"]]["mean"] is not None]

    level = None if chance is None else round(100 * chance, 2)
    return (
        '<div class="chart-row">'
        + scatter_svg(points("inference_latency_ms"), chart_id="chart-latency",
                      title=f"{primary} against inference latency",
                      x_label="latency per utterance (ms, log scale)", y_label=f"{primary} %",
                      chance=level)
        + scatter_svg(points("n_parameters"), chart_id="chart-params",
                      title=f"{primary} against model size",
                      x_label="parameters (log scale)", y_label=f"{primary} %", chance=level)
        + '</div><p class="hint">Dashed: chance level. Step line and ringed points: the '
        "Pareto front (nothing else is both cheaper and better). A number on a point is its "
        "rank where the name does not fit; hover a point for its name.</p>"
    )


def render_html(snapshot: Mapping[str, Any]) -> str:
    """The complete HTML document of a snapshot."""
    summary, info = snapshot["summary"], snapshot["info"]
    title = table.title(snapshot)
    lay = table.layout(summary)
    meta = [("Corpus", f"{info['corpus']} (fingerprint {info['corpus_fingerprint']})"),
            ("Label map", str(info["label_map"])), ("Protocol", info["protocol"]),
            ("Metrics", ", ".join(table.metric_name(m) for m in info["metrics"])),
            ("Entries", f"{len(summary['groups'])} configuration(s), "
                        f"{summary['n_entries']} run(s)"),
            ("serbench", str(snapshot["serbench_version"]))]
    meta += [(k, "none" if v == "–" else v)  # equal on every row: said once
             for k, v in lay.constant.items()]
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
        + _filters(summary)
        + f'<div class="table-wrap">{_table(summary, lay)}</div><ul class="notes">'
        + "".join(f"<li>{escape(n)}</li>" for n in table.footnotes(summary))
        + "</ul></section><section><h2>Accuracy against cost</h2>"
        + _charts(summary)
        + "</section><section><h2>Configurations</h2>"
        + "".join(details(g, summary) for g in summary["groups"])
        + "</section></main><footer>Generated by serbench from run records; "
        "published leaderboards are immutable.</footer>"
        f"<script>{_asset('page.js')}</script></body></html>\n"
    )
