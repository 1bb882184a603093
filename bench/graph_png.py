"""Time and size of the PNG graph a notification carries (server/graphing/png.py): three
hours of one-minute points (an alert's graph: two hours before it opened, one after) and a
day of them (the longest), with a warning and a critical threshold and the open time marked.

    .venv/bin/python bench/graph_png.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import worktree  # noqa: F401  (this tree's code first)

from sabamon.server.graphing.chart import Chart, Threshold
from sabamon.server.graphing.png import render_png


def chart(minutes: int) -> Chart:
    points = [(60 * i, 1.2 + math.sin(i / 9) + (i % 7) / 10) for i in range(minutes)]
    thresholds = [Threshold("warning", 1.0), Threshold("critical", 2.0)]
    return Chart(points, 0, 60 * minutes, "float", "loadavg5 · web-1", thresholds,
                 mark=30 * minutes)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for minutes in (180, 1440):
        drawing = chart(minutes)
        timings, size = [], 0
        for _ in range(args.rounds):
            started = time.perf_counter()
            size = len(render_png(drawing))
            timings.append(time.perf_counter() - started)
        print(f"{minutes} points: median {statistics.median(timings) * 1000:.1f} ms,"
              f" {size / 1000:.1f} kB")  # fmt: skip


if __name__ == "__main__":
    main()
