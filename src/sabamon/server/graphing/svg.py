"""A small line chart of one series with its thresholds, as an SVG string, and the same
shape as a one-line text sparkline for plain-text mail and Slack without images.

Its clock labels are in UTC, named; each carries `data-epoch`, so a page shows them in the
user's zone (time.js).

Written here rather than taken from a charting library: the chart is one polyline, two
dashed lines and a few labels (about 100 lines), while matplotlib or pygal would add tens
of MB to the server for it. Colours are presentation attributes, not `style`, so the page's
Content-Security-Policy (no inline styles) draws it as is, and so do mail readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from .chart import (
    GRID,
    HEIGHT,
    INK,
    LEFT,
    LINE,
    MARK,
    RIGHT,
    TOP,
    WIDTH,
    Chart,
    Frame,
    clock,
)
from .units import format_value

SPARKS = "▁▂▃▄▅▆▇█"


def render_svg(chart: Chart) -> str:
    """The chart as an <svg> element of WIDTH × HEIGHT."""
    frame = Frame(chart)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(chart.title)}'
        ' font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="14" fill="{INK}" font-weight="bold">{escape(chart.title)}</text>',
    ]
    for tick in frame.ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"'
            f' stroke="{GRID}"/><text x="{LEFT - 6}" y="{y + 4:.1f}" fill="{INK}"'
            f' text-anchor="end">{escape(format_value(chart.unit, tick))}</text>'
        )
    bottom = HEIGHT - 6
    parts.append(
        f'<text x="{LEFT}" y="{bottom}" fill="{INK}" data-epoch="{chart.frm}">'
        f"{clock(chart.frm)}</text>"
    )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{bottom}" fill="{INK}" text-anchor="end"'
        f' data-epoch="{chart.to}" data-zone="named">{clock(chart.to)} UTC</text>'
    )
    if chart.mark is not None and frame.shows_mark():
        x = frame.x(chart.mark)
        parts.append(
            f'<line class="mark" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}"'
            f' y2="{TOP + frame.plot_height}" stroke="{MARK}" stroke-dasharray="2 3"/>'
        )
    for threshold in chart.thresholds:
        y = frame.y(threshold.value)
        parts.append(
            f'<line class="threshold {threshold.label}" x1="{LEFT}" x2="{WIDTH - RIGHT}"'
            f' y1="{y:.1f}" y2="{y:.1f}" stroke="{threshold.colour}"'
            ' stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
    for run in frame.runs():
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        parts.append(
            f'<polyline class="series" points="{coords}" fill="none" stroke="{LINE}"'
            ' stroke-width="1.5"/>'
        )
    if not chart.points:
        parts.append(
            f'<text x="{LEFT + frame.plot_width / 2}" y="{TOP + frame.plot_height / 2}"'
            f' fill="{INK}" text-anchor="middle">no points in this range</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


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
