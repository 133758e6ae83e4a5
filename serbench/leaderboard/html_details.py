"""The per-configuration details blocks of the HTML page, and citation links.

Each block holds the row's identity, hyperparameters, per-fold scores per seed, the
recall of each class over all test utterances (from the entry's per-speaker counts),
the paper's reported number where the benchmark matches the paper, and its citation
with the DOI and code repository as links.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html import escape
from typing import Any

from serbench.leaderboard import table

_DOI = re.compile(r"doi:\s*(10\.\d{4,9}/[^\s,;]+)", re.IGNORECASE)
_CODE = re.compile(r"(?:https?://)?(github\.com/[\w.-]+/[\w.-]+)")


def _trim(url: str) -> str:
    return url.rstrip(".)")  # the sentence's full stop is no part of the address


def linkify(text: str) -> str:
    """``text`` escaped, with ``doi:10...`` and ``github.com/owner/repo`` as links."""
    out, pos = [], 0
    hits = sorted([(m.start(), m.end(), "doi", m.group(1)) for m in _DOI.finditer(text)]
                  + [(m.start(), m.end(), "code", m.group(1)) for m in _CODE.finditer(text)])
    for start, end, kind, target in hits:
        if start < pos:
            continue  # a GitHub address inside a DOI match (or the reverse)
        target = _trim(target)
        end = start + text[start:end].find(target) + len(target)
        href = f"https://doi.org/{target}" if kind == "doi" else f"https://{target}"
        out.append(escape(text[pos:start]))
        out.append(f'<a href="{escape(href, quote=True)}" rel="noopener">'
                   f"{escape(text[start:end])}</a>")
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def _recall_table(group: Mapping[str, Any]) -> str:
    recall = group.get("per_class_recall")
    if not recall:
        return ("<p>Recall per class: not available (the run's predictions were not beside "
                "its record when it was added).</p>")
    best = max((r for r in recall.values() if r is not None), default=None)
    cells = "".join(
        f'<td class="{"top" if r is not None and r == best else ""}">{table.pct(r)}'
        f'<span class="bar" style="width:{0 if r is None else round(100 * r)}%"></span></td>'
        for r in recall.values())
    return ('<p>Recall per class over all test utterances (%):</p><table class="recall">'
            "<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in recall)
            + f"</tr></thead><tbody><tr>{cells}</tr></tbody></table>")


def _confusion_table(group: Mapping[str, Any]) -> str:
    """Rows: true class; columns: predicted class; each cell its count and row share."""
    confusion = group.get("confusion")
    if not confusion:
        return ""
    classes, matrix = confusion["classes"], confusion["matrix"]
    head = "".join(f"<th>{escape(c)}</th>" for c in classes)
    body = []
    for i, (true, row) in enumerate(zip(classes, matrix, strict=True)):
        total = sum(row)
        cells = "".join(
            f'<td class="{"diag" if i == j else ""}" title="{n} of {total}">{n}'
            f'<span class="share">{table.pct(n / total if total else None)}%</span></td>'
            for j, n in enumerate(row))
        body.append(f"<tr><th>{escape(true)}</th>{cells}</tr>")
    return ('<p>Confusion matrix over all test utterances (rows: true class, columns: '
            'predicted; count and % of the row):</p><table class="confusion"><thead><tr>'
            f"<th>true / predicted</th>{head}</tr></thead><tbody>{''.join(body)}"
            "</tbody></table>")


def _fold_table(group: Mapping[str, Any]) -> str:
    seeds = list(group["fold_scores"])
    folds = sorted({f for s in seeds for f in group["fold_scores"][s]})
    return ("<table><thead><tr><th>fold</th>"
            + "".join(f"<th>seed {escape(s)}</th>" for s in seeds)
            + "</tr></thead><tbody>"
            + "".join(f"<tr><td>{escape(f)}</td>"
                      + "".join(f"<td>{table.pct(group['fold_scores'][s].get(f))}</td>"
                                for s in seeds) + "</tr>" for f in folds)
            + "</tbody></table>")


def _marks(group: Mapping[str, Any], summary: Mapping[str, Any]) -> list[str]:
    out = []
    if "one-class" in (group.get("flags") or ()):
        out.append("predicts a single class for every speaker")
    if "chance" in (group.get("flags") or ()):
        out.append(f"at chance level ({table.pct(summary.get('chance'))}% UA)")
    if group.get("superseded_by"):
        out.append(f"superseded by v{group['superseded_by']} of the same model and variant")
    return out


def details(group: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    """The ``<details>`` block of one configuration."""
    primary = summary["primary"]
    score = group["scores"][primary]
    feature, timing, ci = group["feature"], group["timing"], group.get("ci")
    comp = group.get("comparison")
    rows = [
        ("Model", escape(f"{group['model']} v{group['model_version']}"
                         + (f", variant {group['variant']}" if group["variant"] else "")
                         + (f" — {group['distribution']} {group['distribution_version']}"
                            if group.get("distribution") else ""))),
        ("Features", escape(f"{feature['name']} v{feature.get('version')}, normalisation "
                            f"{feature.get('normalisation')}, params "
                            f"{json.dumps(feature.get('params') or {}, sort_keys=True)}")),
        ("Seeds", escape(", ".join(map(str, group["seeds"])))),
        ("Epoch budget", escape(str(group.get("epochs") or "–"))),
        ("Runs", escape(", ".join(group["run_ids"]))),
        ("Split hash(es)", escape(", ".join(group["split_hashes"]))),
        (f"{table.metric_name(primary)} pooled", escape(
            f"{table.pct(score['pooled'])}"
            + (f" [{table.pct(ci['low'])}, {table.pct(ci['high'])}] ({ci['method']}, "
               f"{ci['clusters']} clusters)" if ci else " (no CI: too little data)"))),
        ("vs best", escape(
            "this is the best entry" if group["rank"] == 1 else
            ("no folds in common with the best entry" if comp is None else
             f"the best entry is {100 * comp['delta']:+.2f} points ahead on paired folds, "
             f"p={comp['p']:.4f} (Holm {comp['p_holm']:.4f}), {comp['n_pairs']} "
             f"{comp['pairing']} pairs" + (", significant" if comp.get("significant") else "")
             + ("" if comp["attainable"] else ": too few pairs to reach significance")))),
        ("Timing", escape(
            f"{table.number(timing['train_seconds_per_epoch'])} s/epoch, "
            f"{table.number(timing['inference_latency_ms'], 3)} ms/utt, "
            f"{table.number(timing['throughput_utt_per_s'], 1)} utt/s, "
            f"{table.params(timing['n_parameters'])} parameters, peak "
            f"{table.number(timing['peak_memory_mb'], 1)} MB "
            f"({timing.get('peak_memory_kind') or '–'}) on "
            f"{timing.get('device_name') or '–'}, clock {table.clock_text(timing)}")),
    ]
    marks = _marks(group, summary)
    if marks:
        rows.insert(0, ("Note", escape("; ".join(marks))))
    if group.get("distinct"):
        rows.insert(1, ("Differs from same-named rows", escape(group["distinct"])))
    if group.get("paper"):
        rows.append(("Paper reports", escape(
            f"{table.metric_name(primary)} {table.pct(group['paper']['value'])} "
            f"({group['paper']['label']}); measured here {table.pct(score['mean'])}")))
    if group.get("tuning"):
        rows.append(("Tuning", escape(json.dumps(group["tuning"], sort_keys=True))))
    if group.get("citation"):
        rows.append(("Citation", linkify(group["citation"])))
    name = f"{group['label']} v{group['model_version']}" + (
        f" [{group['tag']}]" if group.get("tag") else "")
    return (
        f'<details id="entry-{group["key"]}" data-model="{escape(group["model"], quote=True)}" '
        f'data-feature="{escape(feature["name"], quote=True)}"><summary>{group["rank"]}. '
        f"{escape(name)} — {table.metric_name(primary)} {table.pct(score['mean'])} ± "
        f"{table.pct(score['fold_std'])}</summary><dl class=\"meta\">"
        + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in rows)
        + "</dl>" + _recall_table(group) + _confusion_table(group)
        + "<p>Hyperparameters:</p><pre>"
        + escape("\n".join(f"{k}: {json.dumps(v)}"  # one line per key, lists inline
                           for k, v in sorted(group["hyperparameters"].items())))
        + f"</pre><p>{table.metric_name(primary)} per fold (%):</p>" + _fold_table(group)
        + "</details>"
    )
