"""What a server-drawn graph shows and where each part lands: the one layout that the SVG
(`svg.py`, for pages and webhook bodies) and the PNG (`png.py`, for Slack and mail) both
draw, so the two pictures of an alert are the same graph.

Coordinates are in CSS pixels of a WIDTH × HEIGHT canvas; times are epoch seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from .units import nice_ticks

WIDTH, HEIGHT = 480, 180
LEFT, RIGHT, TOP, BOTTOM = 70, 12, 22, 22
LINE, WARNING, CRITICAL, MARK, GRID, INK = (
    "#2f7ed8", "#d99a00", "#d62728", "#7f7f7f", "#e3e6ea", "#4a5560",
)  # fmt: skip


@dataclass(frozen=True)
class Threshold:
    label: str  # "warning" or "critical"
    value: float

    @property
    def colour(self) -> str:
        return CRITICAL if self.label == "critical" else WARNING


@dataclass(frozen=True)
class Chart:
    """One series over [frm, to] with its thresholds; the line breaks where points are
    more than 1.5 `step` apart; `mark` is a moment drawn as a vertical line (the alert's
    open time)."""

    points: Sequence[tuple[int, float]]
    frm: int
    to: int
    unit: str
    title: str
    thresholds: Sequence[Threshold] = ()
    mark: int | None = None
    step: int = 60


@dataclass(frozen=True)
class Frame:
    """The chart placed on the canvas: y ticks (round numbers in its unit) and the maps
    from time and value to pixels."""

    chart: Chart
    ticks: list[float] = field(init=False)

    def __post_init__(self) -> None:
        values = [v for _, v in self.chart.points] + [t.value for t in self.chart.thresholds]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        low = min(low, 0.0) if low >= 0 else low
        object.__setattr__(self, "ticks", nice_ticks(low, high, self.chart.unit))

    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM

    def x(self, t: float) -> float:
        chart = self.chart
        return LEFT + (t - chart.frm) / max(chart.to - chart.frm, 1) * self.plot_width

    def y(self, v: float) -> float:
        y0, y1 = self.ticks[0], self.ticks[-1]
        return TOP + (1 - (v - y0) / ((y1 - y0) or 1)) * self.plot_height

    def runs(self) -> list[list[tuple[float, float]]]:
        """The series as pixel polylines, broken at gaps."""
        runs: list[list[tuple[float, float]]] = []
        previous: int | None = None
        for t, v in self.chart.points:
            if previous is None or t - previous > self.chart.step * 1.5:
                runs.append([])
            runs[-1].append((self.x(t), self.y(v)))
            previous = t
        return runs

    def shows_mark(self) -> bool:
        mark = self.chart.mark
        return mark is not None and self.chart.frm <= mark <= self.chart.to


def clock(epoch: int) -> str:
    """`HH:MM` in UTC."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%H:%M")
