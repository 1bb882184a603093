"""Alerts and alert logs (api.md §7), newest first, paged with `nextId` and `limit`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sabamon.server.alert_json import alert_json
from sabamon.server.alerts.scheduler import AlertingOptions
from sabamon.server.api.alerting import json_body, json_response, page_limit
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State, WriteKey
from sabamon.server.api.errors import BadRequest, PayloadTooLarge
from sabamon.server.public_url import alert_url
from sabamon.server.state import alert_closer
from sabamon.server.store.records import AlertLogRecord, AlertRecord

router = APIRouter(prefix="/api/v0/alerts", tags=["alerts"], responses=ERROR_RESPONSES)

MAX_MEMO_BYTES = 80 * 1024


def with_url(request: Request, alert: AlertRecord) -> dict[str, Any]:
    """The alert's JSON plus `url`, its dashboard page at the server's public URL."""
    options = getattr(request.app.state, "alerting", None) or AlertingOptions()
    return {**alert_json(alert), "url": alert_url(options.base_url, alert.id)}


@router.get("")
async def list_alerts(
    request: Request,
    key: ReadKey,
    state: State,
    with_closed: Annotated[bool, Query(alias="withClosed")] = False,
    next_id: Annotated[str | None, Query(alias="nextId")] = None,
    limit: Annotated[int | None, Query()] = None,
) -> Response:
    alerts, following = await state.store.list_alerts(
        key.org_id, with_closed, next_id, page_limit(limit)
    )
    body: dict[str, object] = {"alerts": [with_url(request, a) for a in alerts]}
    if following is not None:
        body["nextId"] = following
    return json_response(body)


@router.get("/{alert_id}")
async def get_alert(alert_id: str, request: Request, key: ReadKey, state: State) -> Response:
    return json_response(with_url(request, await state.store.get_alert(key.org_id, alert_id)))


@router.put("/{alert_id}")
async def update_alert_memo(
    alert_id: str, request: Request, key: WriteKey, state: State
) -> Response:
    body = await json_body(request)
    memo = body.get("memo") if isinstance(body, dict) else None
    if not isinstance(memo, str):
        raise BadRequest("memo: is required and must be a string")
    if len(memo.encode()) > MAX_MEMO_BYTES:
        raise PayloadTooLarge("memo: must be at most 80 KB")
    await state.store.set_alert_memo(key.org_id, alert_id, memo)
    return json_response({"id": alert_id, "memo": memo})


@router.post("/{alert_id}/close")
async def close_alert(alert_id: str, request: Request, key: WriteKey, state: State) -> Response:
    body = await json_body(request)
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str):
        raise BadRequest("reason: is required and must be a string")
    alert = await state.store.get_alert(key.org_id, alert_id)
    if alert.closed_at is not None:
        raise BadRequest(f"alert {alert_id!r} is already closed")
    closer = await alert_closer(request, state)
    [closed] = await closer.close(key.org_id, [alert], reason, "manual", state.now())
    return json_response(with_url(request, closed))


def alert_log_json(log: AlertLogRecord) -> dict[str, Any]:
    """One entry of an alert's log (api.md §7)."""
    return {
        "id": log.id,
        "createdAt": log.created_at,
        "status": log.status,
        "trigger": log.trigger,
        "monitorId": log.monitor_id,
        "targetValue": log.target_value,
        "statusDetail": log.status_detail,
    }


@router.get("/{alert_id}/logs")
async def alert_logs(
    alert_id: str,
    key: ReadKey,
    state: State,
    next_id: Annotated[str | None, Query(alias="nextId")] = None,
    limit: Annotated[int | None, Query()] = None,
) -> Response:
    logs, following = await state.store.alert_logs(key.org_id, alert_id, next_id, page_limit(limit))
    body: dict[str, object] = {"logs": [alert_log_json(log) for log in logs]}
    if following is not None:
        body["nextId"] = following
    return json_response(body)
