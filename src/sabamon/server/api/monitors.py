"""Monitors (api.md §6) in Mackerel's JSON, so `mkr monitors push` files work as they are."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sabamon.server import definitions
from sabamon.server.alerts.monitors import Monitor, monitor_sort_key
from sabamon.server.api.alerting import json_body, json_response
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State, WriteKey
from sabamon.server.state import alert_closer

router = APIRouter(prefix="/api/v0/monitors", tags=["monitors"], responses=ERROR_RESPONSES)


@router.post("")
async def create_monitor(request: Request, key: WriteKey, state: State) -> Response:
    monitor = await definitions.create_monitor(state, key.org_id, await json_body(request))
    return json_response(monitor.to_json())


@router.get("")
async def list_monitors(key: ReadKey, state: State) -> Response:
    docs = await state.store.list_documents(key.org_id, "monitor")
    monitors = sorted((Monitor(d.id, d.spec) for d in docs), key=monitor_sort_key)
    return json_response({"monitors": [m.to_json() for m in monitors]})


@router.get("/{monitor_id}")
async def get_monitor(monitor_id: str, key: ReadKey, state: State) -> Response:
    doc = await state.store.get_document(key.org_id, "monitor", monitor_id)
    return json_response({"monitor": Monitor(doc.id, doc.spec).to_json()})


@router.put("/{monitor_id}")
async def update_monitor(
    monitor_id: str, request: Request, key: WriteKey, state: State
) -> Response:
    body = await json_body(request)
    monitor = await definitions.update_monitor(state, key.org_id, monitor_id, body)
    return json_response(monitor.to_json())


@router.delete("/{monitor_id}")
async def delete_monitor(
    monitor_id: str, request: Request, key: WriteKey, state: State
) -> Response:
    """Deletes the monitor and closes its open alerts (trigger `monitorDelete`), notified."""
    closer = await alert_closer(request, state)
    monitor = await definitions.delete_monitor(state, closer, key.org_id, monitor_id)
    return json_response(monitor.to_json())
