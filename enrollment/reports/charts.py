"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, and they print.

Every label is escaped; the numbers are written as text (above each bar, beside its label)
so that the charts stay readable in black and white. No `style` attributes (the CSP allows
none): colours are presentation attributes, sizes come from static/reports.css.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from markupsafe import Markup, escape

FULL = "#b02a37"      # at or over capacity
NEARLY = "#b35c00"    # 80 % or more
OPEN = "#1f5fbf"
INK = "#212529"
MUTED = "#6c757d"
GRID = "#adb5bd"
TRACK = "#dee2e6"     # the seats of a course, behind its bar

# The fill-rate chart, in pixels: a row is a label line and a bar.
FILL_ROW = 36
BAR_HEIGHT = 12
LEGEND_LINE = 20
# A label longer than this is cut (its full text is in the row's tooltip): beside the figures
# it still fits a 320 px wide chart.
LABEL_CHARS = 24


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


def fill_rate_bars(items: Sequence[tuple[str, float | None, str]], *, title: str) -> Markup:
    """Horizontal bars of fill rates: `items` are (label, rate or None, detail text).

    Each course (or department) takes two lines: its label and its figures above, the bar
    below, so that no text ever sits on a bar or a line. There is no viewBox: positions
    across are percentages of the chart's width and everything else is in pixels, so the
    text keeps its size at any width, from a 320 px phone to a wide screen. A grey track
    shows the seats (100 %); a course over capacity runs past the dashed capacity mark.
    """
    scale_max = max([1.0] + [r for _, r, _ in items if r is not None])
    capacity_x = 100 / scale_max
    legend = _legend(scale_max > 1)
    top = legend.height + 6
    height = top + FILL_ROW * max(len(items), 1)
    body = [legend.svg]
    for i, (label, rate, detail) in enumerate(items):
        y = top + i * FILL_ROW
        short = label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
        full = f"{label}: " + ("no seats" if rate is None else f"{_percent(rate)} {detail}")
        body.append(f'<g class="fill-row"><title>{escape(full)}</title>'
                    f'<text class="label" x="0" y="{y + 13}" fill="{INK}">{escape(short)}</text>')
        if rate is None:
            body.append(f'<text class="value" x="100%" y="{y + 13}" text-anchor="end" '
                        f'fill="{MUTED}">no seats</text></g>')
            continue
        body.append(f'<text class="value" x="100%" y="{y + 13}" text-anchor="end" '
                    f'fill="{INK}">{_percent(rate)} {escape(detail)}</text>')
        body.append(f'<rect class="track" x="0" y="{y + 19}" width="{capacity_x:.2f}%" '
                    f'height="{BAR_HEIGHT}" fill="{TRACK}"/>')
        bar_w = 100 * rate / scale_max
        if rate > 0:
            body.append(f'<rect class="bar" x="0" y="{y + 19}" width="{max(bar_w, 0.5):.2f}%" '
                        f'height="{BAR_HEIGHT}" fill="{bar_color(rate)}"/>')
        if scale_max > 1:
            body.append(f'<line class="capacity" x1="{capacity_x:.2f}%" y1="{y + 16}" '
                        f'x2="{capacity_x:.2f}%" y2="{y + 22 + BAR_HEIGHT}" stroke="{INK}" '
                        f'stroke-dasharray="3 2"/>')
        body.append("</g>")
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart fill-chart" role="img" '
        f'width="100%" height="{height}" aria-label="{escape(title)}" '
        f'font-family="system-ui, sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


class _Legend(NamedTuple):
    svg: str
    height: int


def _legend(over_capacity: bool) -> _Legend:
    """The colours, two to a line: each entry starts at 0 % or 50 % across, its words `dx`
    pixels after its swatch, so that both keep their pixel sizes."""
    entries = [(FULL, "Full (100 % or more)"), (NEARLY, "80–99 % full"),
               (OPEN, "Under 80 % full"), (TRACK, "Seats not taken")]
    parts = []
    for i, (colour, words) in enumerate(entries):
        x, y = ("0" if i % 2 == 0 else "50%"), (i // 2) * LEGEND_LINE
        parts.append(f'<rect class="swatch" x="{x}" y="{y + 3}" width="11" height="11" '
                     f'fill="{colour}" stroke="{GRID}"/><text x="{x}" dx="18" y="{y + 13}" '
                     f'fill="{INK}">{words}</text>')
    lines = 2
    if over_capacity:
        y = lines * LEGEND_LINE
        parts.append(f'<line class="swatch" x1="6" y1="{y + 2}" x2="6" y2="{y + 16}" '
                     f'stroke="{INK}" stroke-dasharray="3 2"/><text x="18" y="{y + 13}" '
                     f'fill="{INK}">Capacity (100 %)</text>')
        lines += 1
    return _Legend(f'<g class="legend">{"".join(parts)}</g>', lines * LEGEND_LINE)


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f} %"  # as the tables write it


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
