"""The monitor form's helpers: the metric names in the monitor's scope (for its metric
picker) and a preview graph of the metric with the thresholds being typed, drawn on the
server like the alert graphs, as Mackerel's monitor form shows one.

GET /ui/data/monitor-preview?type=host&metric=…&scopes=…&excludeScopes=…&warning=…
&critical=… (or type=service&service=…) answers {"metrics": [names], "svg": "<svg…>" or
null, "owner": the host or service drawn}.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from sabamon.server.alerts.computed import (
    COMPONENTS,
    filesystems_by_host,
    host_series,
    metric_names,
)
from sabamon.server.alerts.evaluators import monitored_hosts
from sabamon.server.alerts.explain import thresholds
from sabamon.server.alerts.monitors import Monitor
from sabamon.server.graphing.chart import Chart
from sabamon.server.graphing.svg import render_svg
from sabamon.server.graphing.units import unit_of_metric
from sabamon.server.store.records import HostFilter

from .data import STATUSES, error
from .session import DataUser, State

router = APIRouter()
PREVIEW_SPAN = 6 * 3600
HOSTS_SCANNED = 20
"""Hosts in scope whose metric names fill the picker (the first by name)."""
MAX_NAMES = 2000


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@router.get("/ui/data/monitor-preview")
async def monitor_preview(
    state: State,
    signed_in: DataUser,
    type: str = Query("host"),
    metric: str = Query(""),
    service: str = Query(""),
    scopes: str = Query(""),
    exclude_scopes: str = Query("", alias="excludeScopes"),
    warning: str = Query(""),
    critical: str = Query(""),
) -> Response:
    org_id = signed_in.user.org_id
    now = state.now()
    frm = now - PREVIEW_SPAN
    spec: dict[str, Any] = {"type": type, "metric": metric, "warning": _number(warning),
                            "critical": _number(critical)}  # fmt: skip
    names: list[str] = []
    series: list[tuple[int, float]] = []
    owner = ""
    if type == "host":
        scope = {"scopes": _list(scopes), "excludeScopes": _list(exclude_scopes)}
        hosts = await state.store.list_hosts(org_id, HostFilter(statuses=STATUSES))
        chosen = sorted(
            monitored_hosts(Monitor("preview", scope), {h.id: h for h in hosts}),
            key=lambda h: h.name,
        )[:HOSTS_SCANNED]
        found: set[str] = set()
        for host in chosen:
            found.update(await state.store.series.metric_names(org_id, "host", host.id))
        names = sorted(COMPONENTS) + sorted(found)
        if metric and chosen:
            host = chosen[0]
            points = await state.store.series.recent_points(
                org_id, "host", list(metric_names(metric)), frm, now, [host.id]
            )
            fs = filesystems_by_host(points).get(host.id, [])
            series, owner = host_series(points, host.id, metric, fs), host.name
    elif type == "service":
        if not service:
            return error(400, "service: name the service whose metrics to list")
        names = sorted(await state.store.series.metric_names(org_id, "service", service))
        if metric:
            points = await state.store.series.recent_points(
                org_id, "service", [metric], frm, now, [service]
            )
            series, owner = points.get((service, metric), []), service
    else:
        return error(400, f"type: previews are for host and service monitors, not {type!r}")
    svg = None
    if metric:
        title = f"{metric} · {owner}, last 6 h" if owner else f"{metric}: no host in scope"
        svg = render_svg(Chart(series, frm, now, unit_of_metric(metric), title, thresholds(spec)))
    body = {"metrics": names[:MAX_NAMES], "svg": svg, "owner": owner}
    return Response(orjson.dumps(body), media_type="application/json")
