"""Alerts: open and closed, one alert's detail and history, closing with a reason."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, Form, Request
from markupsafe import Markup
from starlette.responses import RedirectResponse, Response

from sabamon.server.alerts.explain import alert_graph, graph_range, rule_in_words
from sabamon.server.graphing.units import format_value, unit_of_metric
from sabamon.server.public_url import host_url
from sabamon.server.state import alert_closer
from sabamon.server.store.records import AlertRecord, NotFound
from sabamon.server.text import sanitize

from .alert_state import unreached
from .documents import find_document
from .render import missing, render
from .session import FormUser, PageUser, SignedIn, State

log = logging.getLogger(__name__)
router = APIRouter()
PAGE_SIZE = 100
MAX_REASON = 1024
DELIVERIES_LOOKED_AT = 2000
"""The newest deliveries searched for the open alerts' (the warning of alerts that
reached no channel)."""
CLOSED_TAIL = 1800
GRAPH_AFTER_OPEN = 6 * 3600
"""The alert page's graph ends at most this long after the opening, so it stays on it."""


@router.get("/ui/alerts")
async def alerts_page(
    request: Request, state: State, signed_in: PageUser, closed: bool = False, after: str = ""
) -> Response:
    org_id = signed_in.user.org_id
    alerts, next_id = await state.store.list_alerts(org_id, closed, after or None, PAGE_SIZE)
    open_alerts, deliveries, monitors = await asyncio.gather(
        state.store.open_alerts(org_id),
        state.store.list_deliveries(org_id, None, DELIVERIES_LOOKED_AT),
        state.store.list_documents(org_id, "monitor"),
    )
    hosts = {}
    for host_id in {a.host_id for a in alerts if a.host_id}:
        try:
            hosts[host_id] = await state.store.get_host(org_id, host_id)
        except NotFound:
            continue
    return render(
        request,
        "alerts.html",
        signed_in,
        alerts=alerts,
        hosts=hosts,
        monitors={d.id: d.spec for d in monitors},
        unreached=unreached(open_alerts, deliveries),
        closed=closed,
        next_id=next_id,
    )


@router.get("/ui/alerts/{alert_id}")
async def alert_page(
    request: Request, alert_id: str, state: State, signed_in: PageUser
) -> Response:
    org_id = signed_in.user.org_id
    try:
        alert = await state.store.get_alert(org_id, alert_id)
    except NotFound:
        return missing(request, signed_in, f"alert {alert_id}")
    return await _alert_detail(request, state, signed_in, alert)


async def _alert_detail(
    request: Request,
    state: State,
    signed_in: SignedIn,
    alert: AlertRecord,
    error: str | None = None,
) -> Response:
    """The alert with its monitor's name and rule, its host, its value in the metric's
    unit and the graph of the metric around the open time."""
    org_id = signed_in.user.org_id
    logs, _ = await state.store.alert_logs(org_id, alert.id, None, PAGE_SIZE)
    doc = await find_document(state, org_id, "monitor", alert.monitor_id)
    spec = doc.spec if doc else {"type": alert.type}
    host = None
    if alert.host_id:
        with contextlib.suppress(NotFound):
            host = await state.store.get_host(org_id, alert.host_id)
    metric = str(spec.get("metric", ""))
    where = (host.display_name or host.name) if host else str(spec.get("service", ""))
    end = alert.closed_at + CLOSED_TAIL if alert.closed_at else state.now()
    until = min(end, alert.opened_at + GRAPH_AFTER_OPEN)
    graph = await alert_graph(
        state.store, org_id, spec, alert.host_id, alert.opened_at, until, where
    )
    around = (graph.frm, graph.to) if graph else graph_range(alert.opened_at, until)
    return render(
        request,
        "alert.html",
        signed_in,
        status_code=400 if error else 200,
        alert=alert,
        logs=logs,
        error=error,
        monitor_name=spec.get("name") or (alert.message if alert.type == "check" else ""),
        monitor_exists=doc is not None,
        rule=rule_in_words(spec),
        metric=metric,
        value=format_value(unit_of_metric(metric), alert.value),
        host=host,
        host_link=host_url("", alert.host_id, around) if alert.host_id else None,
        graph=Markup(graph.svg) if graph else None,
    )


@router.post("/ui/alerts/{alert_id}/close")
async def close_alert(
    request: Request, alert_id: str, state: State, signed_in: FormUser, reason: str = Form("")
) -> Response:
    org_id = signed_in.user.org_id
    try:
        alert = await state.store.get_alert(org_id, alert_id)
    except NotFound:
        return missing(request, signed_in, f"alert {alert_id}")
    reason = sanitize(reason.strip())
    if not reason or len(reason) > MAX_REASON:
        problem = f"reason: give 1 to {MAX_REASON} characters saying why the alert is closed"
        return await _alert_detail(request, state, signed_in, alert, problem)
    closer = await alert_closer(request, state)
    await closer.close(org_id, [alert], reason, "manual", state.now())
    log.info("event=alert_closed alert=%s user=%s", alert_id, signed_in.user.name)
    return RedirectResponse(f"/ui/alerts/{alert_id}", status_code=303)
