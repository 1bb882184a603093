"""The chart of `chart.py` as a PNG, for the places that cannot show an SVG: Slack's
attachment `image_url` and mail readers (Gmail and Outlook drop inline SVG).

Drawn with Pillow (the field's standard imaging library; its wheels carry FreeType and a
scalable default font, so the server needs no font files). The canvas is drawn at
`SUPERSAMPLE` × the output size and scaled down, which smooths the lines Pillow draws
without anti-aliasing; the output is `SCALE` × WIDTH × HEIGHT (960 × 360), sharp on
high-density screens. Measured by `bench/graph_png.py` (medians of 20): 9 ms and 10 kB
for an alert's three hours of one-minute points with two thresholds, 15 ms and 12 kB for a
day of them, on a quiet 2-core machine (26–33 ms and 47 ms at load average 6). The engine
draws it on a worker thread.
"""

from __future__ import annotations

import io
import math
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from . import chart as layout
from .chart import Chart, Frame, clock
from .units import format_value

SCALE = 2
"""Output pixels per CSS pixel of the layout."""
SUPERSAMPLE = 2
"""Drawing pixels per output pixel."""
PALETTE = 32
"""Colours of the output PNG."""
MAX_BYTES = 256 * 1024
"""A PNG larger than this is refused (`ValueError`); the fixed canvas keeps real ones
near 12 KB."""

Point = tuple[float, float]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size)


def _dashed(
    draw: ImageDraw.ImageDraw, a: Point, b: Point, dash: tuple[float, float], **line: object
) -> None:
    """A straight line from `a` to `b` as `dash` = (on, off) pixel segments."""
    length = math.dist(a, b)
    if length == 0:
        return
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    start, on, off = 0.0, dash[0], dash[1]
    while start < length:
        end = min(start + on, length)
        draw.line(
            [(a[0] + ux * start, a[1] + uy * start), (a[0] + ux * end, a[1] + uy * end)],
            **line,  # type: ignore[arg-type]
        )
        start = end + off


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes of SCALE × (WIDTH × HEIGHT) pixels, clock labels in UTC
    (named); raises ValueError past MAX_BYTES."""
    k = SCALE * SUPERSAMPLE
    frame = Frame(chart)
    left, right, top = layout.LEFT, layout.WIDTH - layout.RIGHT, layout.TOP
    bottom = top + frame.plot_height
    image = Image.new("RGB", (layout.WIDTH * k, layout.HEIGHT * k), "#ffffff")
    draw = ImageDraw.Draw(image)
    font = _font(11 * k)

    def at(x: float, y: float) -> Point:
        return (x * k, y * k)

    def text(x: float, y: float, words: str, anchor: str, bold: bool = False) -> None:
        """`anchor`: Pillow's, e.g. "ls" = left end on the baseline (SVG's `start`)."""
        draw.text(at(x, y), words, fill=layout.INK, font=font, anchor=anchor,
                  stroke_width=k // 3 if bold else 0, stroke_fill=layout.INK)  # fmt: skip

    text(left, 14, chart.title, "ls", bold=True)
    for tick in frame.ticks:
        y = frame.y(tick)
        draw.line([at(left, y), at(right, y)], fill=layout.GRID, width=k)
        text(left - 6, y + 4, format_value(chart.unit, tick), "rs")
    text(left, layout.HEIGHT - 6, clock(chart.frm), "ls")
    text(right, layout.HEIGHT - 6, f"{clock(chart.to)} UTC", "rs")
    if chart.mark is not None and frame.shows_mark():
        x = frame.x(chart.mark)
        _dashed(draw, at(x, top), at(x, bottom), (2 * k, 3 * k), fill=layout.MARK, width=k)
    for threshold in chart.thresholds:
        y = frame.y(threshold.value)
        _dashed(draw, at(left, y), at(right, y), (6 * k, 4 * k), fill=threshold.colour,
                width=round(1.5 * k))  # fmt: skip
    for run in frame.runs():
        pixels = [at(x, y) for x, y in run]
        if len(pixels) == 1:
            x, y = pixels[0]
            draw.ellipse([x - k, y - k, x + k, y + k], fill=layout.LINE)
        else:
            draw.line(pixels, fill=layout.LINE, width=round(1.5 * k), joint="curve")
    if not chart.points:
        text((left + right) / 2, (top + bottom) / 2, "no points in this range", "mm")
    # averaging SUPERSAMPLE² pixels smooths the lines; 32 colours hold the smoothed
    # edges, and a palette PNG is a quarter of the RGB one's size and quicker to encode
    out = image.reduce(SUPERSAMPLE).quantize(PALETTE, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        raise ValueError(f"graph image: {len(data)} bytes, more than {MAX_BYTES}")
    return data
