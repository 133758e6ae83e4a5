"""Inline SVG scatter charts (score against latency, against parameters) for the HTML page.

Plain SVG strings built in Python keep the published page self-contained: no chart
library, no CDN, and the chart is already drawn when the page is opened without JS.
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
                chart_id: str, log_x: bool = True, width: int = 560, height: int = 380) -> str:
    """An SVG scatter plot of ``points`` (y in percent), with axes, ticks and labels."""
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
    y_pad = max((max(ys) - min(ys)) * 0.1, 2.0)
    y_lo, y_hi = max(0.0, min(ys) - y_pad), min(100.0, max(ys) + y_pad)
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
    for i, p in enumerate(usable):
        x, y = sx(p.x), sy(p.y)
        anchor = "end" if x > left + plot_w * 0.75 else "start"
        dx = -8 if anchor == "end" else 8
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<g class="point"><title>{escape(p.label)}: {escape(y_label)} {p.y:.1f}, '
            f"{escape(x_label)} {_fmt(p.x)}{escape(p.detail)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
            f'<text x="{x + dx:.1f}" y="{y - 8:.1f}" text-anchor="{anchor}" '
            f'class="point-label">{escape(p.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
