"""Alerts: open and closed, one alert's detail and history, closing with a reason."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from sabamon.server.api.alerting import alert_closer
from sabamon.server.store.base import NotFound

from .render import missing, render
from .session import FormUser, PageUser, State

log = logging.getLogger(__name__)
router = APIRouter()
PAGE_SIZE = 100
MAX_REASON = 1024


@router.get("/ui/alerts")
async def alerts_page(
    request: Request, state: State, signed_in: PageUser, closed: bool = False, after: str = ""
) -> Response:
    org_id = signed_in.user.org_id
    alerts, next_id = await state.store.list_alerts(org_id, closed, after or None, PAGE_SIZE)
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
    logs, _ = await state.store.alert_logs(org_id, alert_id, None, PAGE_SIZE)
    return render(request, "alert.html", signed_in, alert=alert, logs=logs, error=None)


@router.post("/ui/alerts/{alert_id}/close")
async def close_alert(
    request: Request, alert_id: str, state: State, signed_in: FormUser, reason: str = Form("")
) -> Response:
    org_id = signed_in.user.org_id
    try:
        alert = await state.store.get_alert(org_id, alert_id)
    except NotFound:
        return missing(request, signed_in, f"alert {alert_id}")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        logs, _ = await state.store.alert_logs(org_id, alert_id, None, PAGE_SIZE)
        problem = f"reason: give 1 to {MAX_REASON} characters saying why the alert is closed"
        return render(
            request, "alert.html", signed_in, status_code=400, alert=alert, logs=logs, error=problem
        )
    closer = await alert_closer(request, state)
    await closer.close(org_id, [alert], reason, "manual", state.now())
    log.info("event=alert_closed alert=%s user=%s", alert_id, signed_in.user.name)
    return RedirectResponse(f"/ui/alerts/{alert_id}", status_code=303)
