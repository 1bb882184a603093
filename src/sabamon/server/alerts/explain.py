"""What an alert is about, in words and in a picture: the monitor's rule as a sentence, and
the alerting metric around the alert's open time drawn with its thresholds.

Shared by the alert page and the notifications, so both show the same graph. Host and
service metric monitors have a graph; the other types (connectivity, checks, external,
expressions) have none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sabamon.server.alerts.computed import filesystems_by_host, host_series, metric_names
from sabamon.server.graphing.chart import Chart, Threshold
from sabamon.server.graphing.svg import render_svg, sparkline
from sabamon.server.graphing.units import format_value, unit_of_metric
from sabamon.server.store import Store

BEFORE = 2 * 3600
"""Seconds of history the graph shows before the alert opened."""
AFTER = 3600
"""Seconds the graph of an alert still open shows after it opened (up to now)."""
MAX_SPAN = 86400


@dataclass(frozen=True)
class AlertGraph:
    """The graph of an alert: what it shows (`chart`: the metric's points, unit, range in
    epoch seconds and thresholds), drawn as `svg` (an <svg> element, 480×180) and `spark`
    (one line of block characters)."""

    chart: Chart
    metric: str
    svg: str
    spark: str
    png: bytes | None = None
    """The same graph as PNG (notifications only, `notices.with_graph`)."""
    image_url: str | None = None
    """Where the PNG is published without sign-in (`notify/images.py`), if it is."""

    @property
    def frm(self) -> int:
        return self.chart.frm

    @property
    def to(self) -> int:
        return self.chart.to


def rule_in_words(spec: Mapping[str, Any]) -> str:
    """`loadavg5 > 1 warning, > 4 critical, average of 3 points, after 2 checks`."""
    kind = spec.get("type")
    if kind in ("host", "service") and "operator" in spec:
        op = spec["operator"]
        unit = unit_of_metric(str(spec.get("metric", "")))
        levels = [
            f"{op} {format_value(unit, spec[key])} {key}"
            for key in ("warning", "critical")
            if spec.get(key) is not None
        ]
        words = f"{spec.get('metric')} " + ", ".join(levels)
        if (duration := spec.get("duration") or 1) > 1:
            words += f", average of the last {duration} points"
        if (attempts := spec.get("maxCheckAttempts") or 1) > 1:
            words += f", for {attempts} checks in a row"
        return words
    if kind == "connectivity":
        return f"no metric posted for 5 minutes → {spec.get('alertStatusOnGone', 'CRITICAL')}"
    if kind == "expression":
        return f"{spec.get('expression')} {spec.get('operator', '')} thresholds"
    if kind == "external":
        return f"{spec.get('method', 'GET')} {spec.get('url')} answers as expected"
    if kind == "check":
        return "the agent's check plugin reports OK"
    return str(kind or "")


def graph_range(opened_at: int, until: int) -> tuple[int, int]:
    """[opened − 2 h, until], at least a minute past the opening and at most a day long."""
    to = max(until, opened_at + 60)
    return max(opened_at - BEFORE, to - MAX_SPAN), to


def thresholds(spec: Mapping[str, Any]) -> list[Threshold]:
    return [
        Threshold(key, float(spec[key]))
        for key in ("warning", "critical")
        if isinstance(spec.get(key), int | float)
    ]


async def alert_graph(
    store: Store,
    org_id: str,
    spec: Mapping[str, Any],
    host_id: str | None,
    opened_at: int,
    until: int,
    where: str = "",
) -> AlertGraph | None:
    """The graph of a host or service metric monitor's alert; None for other monitors.

    `where` (a host or service name) goes into the title. Reads the raw points of the
    range for this host (or service) only.
    """
    kind, metric = spec.get("type"), spec.get("metric")
    if kind not in ("host", "service") or not isinstance(metric, str):
        return None
    frm, to = graph_range(opened_at, until)
    if kind == "host":
        if not host_id:
            return None
        names = list(metric_names(metric))
        points = await store.series.recent_points(org_id, "host", names, frm, to, [host_id])
        filesystems = filesystems_by_host(points).get(host_id, [])
        series = host_series(points, host_id, metric, filesystems)
    else:
        service = str(spec.get("service", ""))
        points = await store.series.recent_points(org_id, "service", [metric], frm, to, [service])
        series = list(points.get((service, metric), []))
    unit = unit_of_metric(metric)
    title = f"{metric} · {where}" if where else metric
    chart = Chart(series, frm, to, unit, title, thresholds(spec), mark=opened_at)
    return AlertGraph(chart, metric, render_svg(chart), sparkline(series))
