"""Inline SVG scatter charts (score against latency, against parameters) for the HTML page.

Plain SVG strings built in Python keep the published page self-contained: no chart
library, no CDN, and the chart is already drawn when the page is opened without JS.
Each chart draws the chance level as a dashed line and the Pareto front (no other point
is both cheaper and better) as a step line; point labels are placed where they overlap
neither another label nor a point, falling back to the point's short tag (its rank) and
then to no label (the tooltip still names it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c", "#8d6a9f",
           "#c05746", "#3d5a80", "#7a9e7e")


@dataclass(frozen=True)
class Point:
    """One configuration: its label, x (e.g. latency, > 0 for a log axis) and y (score)."""

    label: str
    x: float
    y: float
    detail: str = ""
    tag: str = ""  # a short fallback label (the rank) where the full one does not fit
    group: str = ""  # the row's key, so the page's filters can hide the point


Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """The points no other point beats on both axes (lower x and higher y), by x."""
    front: list[Point] = []
    for p in sorted(points, key=lambda q: (q.x, -q.y)):
        if not front or p.y > front[-1].y:
            front.append(p)
    return front


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _text_box(x: float, y: float, text: str, anchor: str) -> Box:
    """The box a label at baseline ``(x, y)`` covers, with a pixel to spare on every
    side: browsers draw 11px sans-serif 13 px tall (ascent 11, descent 2) and fonts
    differ in width, so a tight estimate lets two labels touch."""
    width = 6.2 * len(text) + 2  # 11px sans-serif: about 6 px a character
    x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    return (x0 - 1, y - 12, x0 + width + 1, y + 3)


def place_labels(spots: Sequence[tuple[float, float, Point]], area: Box,
                 blocked: Sequence[Box] = ()) -> list[tuple[float, float, str, str] | None]:
    """``(x, y, anchor, text)`` per point, or ``None``: labels inside ``area`` that
    overlap no other label, no point and nothing ``blocked`` (e.g. the chance line's
    label); the full label first, then the point's tag."""
    taken: list[Box] = [(x - 7, y - 7, x + 7, y + 7) for x, y, _ in spots] + list(blocked)
    offsets = ((9, -7, "start"), (-9, -7, "end"), (9, 13, "start"), (-9, 13, "end"),
               (0, -11, "middle"), (0, 21, "middle"),  # beside the point, then farther out
               (14, -22, "start"), (-14, -22, "end"), (14, 28, "start"), (-14, 28, "end"),
               (0, -26, "middle"), (0, 36, "middle"),
               (20, -40, "start"), (-20, -40, "end"), (20, 46, "start"), (-20, 46, "end"),
               (0, -44, "middle"), (0, 54, "middle"))  # a third ring, with a leader line
    out: list[tuple[float, float, str, str] | None] = [None] * len(spots)
    for i in sorted(range(len(spots)), key=lambda j: -spots[j][2].y):
        x, y, p = spots[i]
        own = (x - 7, y - 7, x + 7, y + 7)
        for text in dict.fromkeys(t for t in (p.label, p.tag) if t):
            for dx, dy, anchor in offsets:
                box = _text_box(x + dx, y + dy, text, anchor)
                inside = (box[0] >= area[0] and box[2] <= area[2] and box[1] >= area[1]
                          and box[3] <= area[3])
                if inside and not any(_overlaps(box, t) for t in taken if t != own):
                    out[i] = (x + dx, y + dy, anchor, text)
                    taken.append(box)
                    break
            if out[i] is not None:
                break
    return out


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(target, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _linear_ticks(low: float, high: float) -> list[float]:
    step = _nice_step(high - low)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def _log_ticks(low: float, high: float) -> list[float]:
    ticks = []
    factors = (1,) if math.log10(high / low) > 3 else (1, 2, 5)  # keep labels apart
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for factor in factors:
            value = factor * 10.0**exponent
            if low <= value <= high:
                ticks.append(value)
    return ticks or [low, high]


def _fmt(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def scatter_svg(points: Sequence[Point], *, title: str, x_label: str, y_label: str,
                chart_id: str, log_x: bool = True, width: int = 560, height: int = 380,
                chance: float | None = None) -> str:
    """An SVG scatter plot of ``points`` (y in percent), with axes, ticks and labels, the
    Pareto front and, when given, the ``chance`` level (in percent) as a dashed line."""
    left, right, top, bottom = 64, 24, 36, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    usable = [p for p in points if p.x is not None and p.y is not None and (p.x > 0 or not log_x)]
    parts = [f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{width / 2}" y="20" text-anchor="middle" class="chart-title">'
             f"{escape(title)}</text>"]
    if not usable:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">'
                     "no entry has this measurement</text></svg>")
        return "".join(parts)
    xs, ys = [p.x for p in usable], [p.y for p in usable]
    span_ys = ys + ([chance] if chance is not None else [])
    if log_x:
        lo, hi = math.log10(min(xs)), math.log10(max(xs))
        pad = max((hi - lo) * 0.08, 0.15)
        x_lo, x_hi = 10 ** (lo - pad), 10 ** (hi + pad)
        x_ticks = _log_ticks(x_lo, x_hi)

        def sx(v: float) -> float:
            return left + (math.log10(v) - math.log10(x_lo)) / (
                math.log10(x_hi) - math.log10(x_lo)) * plot_w
    else:
        pad = max((max(xs) - min(xs)) * 0.08, abs(max(xs)) * 0.05 or 1.0)
        x_lo, x_hi = min(xs) - pad, max(xs) + pad
        x_ticks = _linear_ticks(x_lo, x_hi)

        def sx(v: float) -> float:
            return left + (v - x_lo) / (x_hi - x_lo) * plot_w
    y_pad = max((max(span_ys) - min(span_ys)) * 0.1, 2.0)
    y_lo, y_hi = max(0.0, min(span_ys) - y_pad), min(100.0, max(span_ys) + y_pad)
    if y_hi - y_lo < 1e-9:
        y_lo, y_hi = y_lo - 1, y_hi + 1

    def sy(v: float) -> float:
        return top + (1 - (v - y_lo) / (y_hi - y_lo)) * plot_h

    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" '
                 'class="plot-area"/>')
    for t in _linear_ticks(y_lo, y_hi):
        y = sy(t)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'class="grid"/><text x="{left - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end" class="tick">{t:g}</text>')
    for t in x_ticks:
        x = sx(t)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" '
                     f'class="grid"/><text x="{x:.1f}" y="{top + plot_h + 16}" '
                     f'text-anchor="middle" class="tick">{_fmt(t)}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle" '
                 f'class="axis-label">{escape(x_label)}</text>')
    parts.append(f'<text transform="translate(16 {top + plot_h / 2}) rotate(-90)" '
                 f'text-anchor="middle" class="axis-label">{escape(y_label)}</text>')
    blocked: list[Box] = []
    if chance is not None:
        y = sy(chance)
        text = f"chance {chance:g}%"
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'class="chance"/><text x="{left + plot_w - 4}" y="{y - 4:.1f}" '
                     f'text-anchor="end" class="chance-label">{escape(text)}</text>')
        blocked.append(_text_box(left + plot_w - 4, y - 4, text, "end"))
    front = pareto_front(usable)
    if len(front) > 1:  # a step line: each front point holds until the next one
        steps = [f"{sx(front[0].x):.1f},{sy(front[0].y):.1f}"]
        for a, b in zip(front, front[1:], strict=False):
            steps += [f"{sx(b.x):.1f},{sy(a.y):.1f}", f"{sx(b.x):.1f},{sy(b.y):.1f}"]
        parts.append(f'<polyline points="{" ".join(steps)}" class="pareto"/>')
    on_front = {id(p) for p in front}
    spots = [(sx(p.x), sy(p.y), p) for p in usable]
    labels = place_labels(spots, (left, top, left + plot_w, top + plot_h), blocked)
    for i, ((x, y, p), placed) in enumerate(zip(spots, labels, strict=True)):
        colour = PALETTE[i % len(PALETTE)]
        css = "point pareto-point" if id(p) in on_front else "point"
        text = ""
        if placed is not None:
            tx, ty, anchor, label = placed
            if abs(ty - y) > 20:  # a label set farther out points back at its dot
                ly = ty - 12 if ty > y else ty + 2
                text = (f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{tx:.1f}" y2="{ly:.1f}" '
                        'class="leader"/>')
            text += (f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" '
                     f'class="point-label">{escape(label)}</text>')
        parts.append(
            f'<g class="{css}" data-group="{escape(p.group, quote=True)}">'
            f"<title>{escape(p.label)}: {escape(y_label)} {p.y:.1f}, "
            f"{escape(x_label)} {_fmt(p.x)}{escape(p.detail)}"
            f"{' (Pareto front)' if id(p) in on_front else ''}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>{text}</g>'
        )
    parts.append("</svg>")
    return "".join(parts)
