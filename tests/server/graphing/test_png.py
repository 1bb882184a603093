"""The PNG drawing of the server-side graph: a valid image of the layout's size, with the
series and each threshold in their colours."""

from __future__ import annotations

import io

from PIL import Image

from sabamon.server.graphing.chart import CRITICAL, HEIGHT, LINE, WARNING, WIDTH, Chart, Threshold
from sabamon.server.graphing.png import MAX_BYTES, SCALE, render_png


def _colours(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (WIDTH * SCALE, HEIGHT * SCALE)
    rgb = image.convert("RGB")
    return {colour for _, colour in rgb.getcolors(maxcolors=1 << 16) or []}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _near(colours: set[tuple[int, int, int]], target: str, slack: int = 24) -> bool:
    want = _rgb(target)
    return any(all(abs(a - b) <= slack for a, b in zip(c, want, strict=True)) for c in colours)


def test_the_png_draws_the_series_and_its_thresholds() -> None:
    points = [(600 + 60 * i, 0.5 + i / 10) for i in range(20)] + [(2400, 2.5)]
    chart = Chart(points, 600, 2500, "float", "loadavg5 · web-1",
                  [Threshold("warning", 1.0), Threshold("critical", 2.0)], mark=1200)  # fmt: skip
    png = render_png(chart)
    assert len(png) < MAX_BYTES // 4
    colours = _colours(png)
    assert _near(colours, LINE) and _near(colours, WARNING) and _near(colours, CRITICAL)


def test_no_points_still_make_a_picture_without_series_or_thresholds() -> None:
    colours = _colours(render_png(Chart([], 0, 3600, "bytes", "memory.used · db-1")))
    assert not _near(colours, LINE) and not _near(colours, CRITICAL)
