"""Round ticks in each unit, values written in their unit, and the server-drawn SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sabamon.server.alerts.explain import graph_range, rule_in_words
from sabamon.server.graphing.chart import Chart, Threshold
from sabamon.server.graphing.svg import render_svg, sparkline
from sabamon.server.graphing.units import format_value, nice_ticks, unit_of_metric

GIB = 1024**3
SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("low", "high", "unit", "ticks"),
    [
        (0, 14 * GIB, "bytes", [0, 4 * GIB, 8 * GIB, 12 * GIB, 16 * GIB]),
        (0, 488.3 * 1024, "bytes/sec", [0, 128 * 1024, 256 * 1024, 384 * 1024, 512 * 1024]),
        (0, 1.1130895955713447, "float", [0, 0.5, 1.0, 1.5]),
        (0, 97, "percentage", [0, 20, 40, 60, 80, 100]),
        (3, 7, "iops", [3, 4, 5, 6, 7]),
    ],
)
def test_ticks_fall_on_round_numbers_of_the_unit(
    low: float, high: float, unit: str, ticks: list[float]
) -> None:
    assert nice_ticks(low, high, unit) == pytest.approx(ticks)


@pytest.mark.parametrize(
    ("unit", "value", "text"),
    [
        ("bytes/sec", 488.3 * 1024, "488.3 KiB/s"),
        ("bytes", 4 * GIB, "4 GiB"),
        ("float", 1.1130895955713447, "1.113"),
        ("percentage", 42.25, "42.25 %"),
        ("integer", 12500, "12.5 k"),
        ("float", None, "—"),
    ],
)
def test_values_are_written_in_their_unit(unit: str, value: float | None, text: str) -> None:
    assert format_value(unit, value) == text


def test_metric_units() -> None:
    assert unit_of_metric("memory.used") == "bytes"
    assert unit_of_metric("interface.eth0.rxBytes.delta") == "bytes/sec"
    assert unit_of_metric("cpu%") == "percentage"
    assert unit_of_metric("disk.sda.reads.delta") == "iops"
    assert unit_of_metric("loadavg5") == "float"


def test_the_svg_draws_the_series_thresholds_and_open_time() -> None:
    points = [(600 + 60 * i, 0.5 + i / 10) for i in range(10)] + [(1800, 2.5)]  # a gap
    svg = render_svg(Chart(
        points, 600, 1900, "float", "loadavg5 · <web-1>",
        [Threshold("warning", 1.0), Threshold("critical", 2.0)], mark=1200,
    ))  # fmt: skip
    root = ET.fromstring(svg)  # well-formed, the hostile name escaped
    assert root.find(f"{SVG}text") is not None and "<web-1>" in root.find(f"{SVG}text").text  # type: ignore[union-attr]
    lines = [e.get("class", "") for e in root.iter(f"{SVG}line")]
    assert "threshold warning" in lines and "threshold critical" in lines and "mark" in lines
    runs = [e for e in root.iter(f"{SVG}polyline")]
    assert len(runs) == 2  # the line breaks at the gap
    labels = [e.text for e in root.iter(f"{SVG}text")]
    assert "2.5" in labels and "UTC" in " ".join(t or "" for t in labels)
    assert "style=" not in svg  # presentation attributes only: no CSP exception needed


def test_sparkline_and_rule_in_words() -> None:
    assert sparkline([(i, float(i)) for i in range(8)]) == "▁▂▃▄▅▆▇█"
    spec = {"type": "host", "metric": "loadavg5", "operator": ">", "warning": 1.0,
            "critical": 4, "duration": 3, "maxCheckAttempts": 2}  # fmt: skip
    assert rule_in_words(spec) == (
        "loadavg5 > 1 warning, > 4 critical, average of the last 3 points, for 2 checks in a row"
    )
    memory = {"type": "host", "metric": "memory.used", "operator": ">", "critical": 4 * GIB}
    assert rule_in_words(memory) == "memory.used > 4 GiB critical"
    assert graph_range(10_000, 10_060) == (10_000 - 7200, 10_060)
    assert graph_range(10_000, 10_000 + 3 * 86400) == (10_000 + 2 * 86400, 10_000 + 3 * 86400)
