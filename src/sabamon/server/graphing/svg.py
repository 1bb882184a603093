"""A small line chart of one series with its thresholds, as an SVG string, and the same
shape as a one-line text sparkline for Slack and plain-text mail.

Its clock labels are in UTC, named; each carries `data-epoch`, so a page shows them in the
user's zone (time.js).

Written here rather than taken from a charting library: the chart is one polyline, two
dashed lines and a few labels (about 100 lines), while matplotlib or pygal would add tens
of MB to the server for it. Colours are presentation attributes, not `style`, so the page's
Content-Security-Policy (no inline styles) draws it as is, and so do mail readers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from .units import format_value, nice_ticks

WIDTH, HEIGHT = 480, 180
LEFT, RIGHT, TOP, BOTTOM = 70, 12, 22, 22
LINE, WARNING, CRITICAL, MARK, GRID, INK = (
    "#2f7ed8", "#d99a00", "#d62728", "#7f7f7f", "#e3e6ea", "#4a5560",
)  # fmt: skip
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Threshold:
    label: str  # "warning" or "critical"
    value: float


def _clock(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%H:%M")


def render_svg(
    points: Sequence[tuple[int, float]],
    *,
    frm: int,
    to: int,
    unit: str,
    title: str,
    thresholds: Sequence[Threshold] = (),
    mark: int | None = None,
    step: int = 60,
) -> str:
    """The chart over [frm, to] (epoch seconds): the line breaks where points are more
    than 1.5 `step` apart; `mark` draws a vertical line (the alert's open time)."""
    values = [v for _, v in points] + [t.value for t in thresholds]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    low = min(low, 0.0) if low >= 0 else low
    ticks = nice_ticks(low, high, unit)
    y0, y1 = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - frm) / max(to - frm, 1) * plot_w

    def y(v: float) -> float:
        return TOP + (1 - (v - y0) / ((y1 - y0) or 1)) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)}'
        ' font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="14" fill="{INK}" font-weight="bold">{escape(title)}</text>',
    ]
    for tick in ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"'
            f' stroke="{GRID}"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" fill="{INK}"'
            f' text-anchor="end">{escape(format_value(unit, tick))}</text>'
        )
    bottom = HEIGHT - 6
    parts.append(
        f'<text x="{LEFT}" y="{bottom}" fill="{INK}" data-epoch="{frm}">{_clock(frm)}</text>'
    )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{bottom}" fill="{INK}" text-anchor="end"'
        f' data-epoch="{to}" data-zone="named">{_clock(to)} UTC</text>'
    )
    if mark is not None and frm <= mark <= to:
        parts.append(
            f'<line class="mark" x1="{x(mark):.1f}" x2="{x(mark):.1f}" y1="{TOP}"'
            f' y2="{TOP + plot_h}" stroke="{MARK}" stroke-dasharray="2 3"/>'
        )
    for threshold in thresholds:
        colour = CRITICAL if threshold.label == "critical" else WARNING
        parts.append(
            f'<line class="threshold {threshold.label}" x1="{LEFT}" x2="{WIDTH - RIGHT}"'
            f' y1="{y(threshold.value):.1f}" y2="{y(threshold.value):.1f}" stroke="{colour}"'
            ' stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
    for run in _runs(points, step):
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
        parts.append(
            f'<polyline class="series" points="{coords}" fill="none" stroke="{LINE}"'
            ' stroke-width="1.5"/>'
        )
    if not points:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" fill="{INK}"'
            ' text-anchor="middle">no points in this range</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _runs(points: Sequence[tuple[int, float]], step: int) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = []
    for point in points:
        if runs and point[0] - runs[-1][-1][0] <= step * 1.5:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def sparkline(points: Sequence[tuple[int, float]], width: int = 40) -> str:
    """The series as `width` block characters (the mean of each slice), low to high."""
    if not points:
        return ""
    size = max(1, -(-len(points) // width))
    means = [
        sum(v for _, v in points[i : i + size]) / len(points[i : i + size])
        for i in range(0, len(points), size)
    ]
    low, high = min(means), max(means)
    scale = (len(SPARKS) - 1) / ((high - low) or 1)
    return "".join(SPARKS[round((m - low) * scale)] for m in means)
