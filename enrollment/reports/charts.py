"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, and they print.

Every label is escaped; the numbers are written next to the bars so that the charts stay
readable in black and white.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

FULL = "#b02a37"      # at or over capacity
NEARLY = "#b35c00"    # 80 % or more
OPEN = "#1f5fbf"
INK = "#212529"
GRID = "#adb5bd"


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(label)}" font-family="system-ui, sans-serif" font-size="12">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def bar_color(rate: float) -> str:
    if rate >= 1:
        return FULL
    return NEARLY if rate >= 0.8 else OPEN


def fill_rate_bars(items: Sequence[tuple[str, float | None, str]], *, title: str,
                   width: int = 720) -> Markup:
    """Horizontal bars of fill rates: `items` are (label, rate or None, detail text)."""
    row, top, label_w, value_w = 22, 8, 120, 150
    scale_max = max([1.0] + [r for _, r, _ in items if r is not None])
    plot_w = width - label_w - value_w
    height = top * 2 + row * max(len(items), 1) + 18
    body = []
    x100 = label_w + plot_w / scale_max
    for i, (label, rate, detail) in enumerate(items):
        y = top + i * row
        body.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" fill="{INK}">'
                    f"{escape(label)}</text>")
        if rate is None:
            body.append(f'<text x="{label_w + 4}" y="{y + 15}" fill="{INK}">no seats</text>')
            continue
        bar_w = max(plot_w * rate / scale_max, 1 if rate > 0 else 0)
        body.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{bar_w:.1f}" '
                    f'height="{row - 6}" fill="{bar_color(rate)}"><title>{escape(label)}: '
                    f'{rate:.0%} {escape(detail)}</title></rect>')
        body.append(f'<text x="{label_w + bar_w + 6:.1f}" y="{y + 15}" fill="{INK}">'
                    f"{rate:.0%} {escape(detail)}</text>")
    bottom = top + row * max(len(items), 1)
    body.append(f'<line x1="{x100:.1f}" y1="{top}" x2="{x100:.1f}" y2="{bottom}" '
                f'stroke="{INK}" stroke-dasharray="4 3"/>')
    body.append(f'<text x="{x100:.1f}" y="{bottom + 14}" text-anchor="middle" fill="{INK}">'
                f"100 %</text>")
    body.append(f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{bottom}" stroke="{INK}"/>')
    return _svg(width, height, title, body)


def nice_step(maximum: int, ticks: int = 4) -> int:
    """A round tick step (1, 2, 5 × 10^n) that splits 0..maximum into about `ticks` parts."""
    if maximum <= ticks:
        return 1
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return int(factor * power)
    return int(10 * power)


def timeline(points: Sequence[tuple[date, int]], *, title: str, width: int = 720,
             height: int = 260) -> Markup:
    """A step line of a running total per day, with a y axis and the first and last dates."""
    left, right, top, bottom = 56, 16, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    peak = max([1] + [v for _, v in points])
    low = min([0] + [v for _, v in points])
    step = nice_step(peak - low)
    y_max = math.ceil(peak / step) * step
    y_min = math.floor(low / step) * step
    y_range = max(y_max - y_min, 1)

    def x(day: date) -> float:
        return left + plot_w * (day - first).days / span

    def y(value: int) -> float:
        return top + plot_h * (y_max - value) / y_range

    body = []
    for value in range(y_min, y_max + 1, step):
        body.append(f'<line x1="{left}" y1="{y(value):.1f}" x2="{width - right}" '
                    f'y2="{y(value):.1f}" stroke="{GRID}" stroke-width="0.5"/>')
        body.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                    f'fill="{INK}">{value}</text>')
    path = [f"M{x(first):.1f},{y(0):.1f}"]
    for day, value in points:
        path.append(f"H{x(day):.1f}V{y(value):.1f}")
    path.append(f"H{width - right:.1f}" if len(points) == 1 else "")
    body.append(f'<path class="line" d="{"".join(path)}" fill="none" stroke="{OPEN}" '
                f'stroke-width="2"/>')
    if len(points) <= 60:
        for day, value in points:
            body.append(f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="3" fill="{OPEN}">'
                        f"<title>{day.isoformat()}: {value}</title></circle>")
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" '
                f'y2="{top + plot_h}" stroke="{INK}"/>')
    body.append(f'<text x="{left}" y="{height - 12}" fill="{INK}">{first:%d %b %Y}</text>')
    if last != first:
        body.append(f'<text x="{width - right}" y="{height - 12}" text-anchor="end" '
                    f'fill="{INK}">{last:%d %b %Y}</text>')
    return _svg(width, height, title, body)
