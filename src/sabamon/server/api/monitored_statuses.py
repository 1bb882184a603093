"""GET /api/v0/hosts/<id>/monitored-statuses: each monitor's latest status for a host."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from sabamon.server.alerts.monitors import Monitor, in_scope
from sabamon.server.api.alerting import json_response
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State

HOST_SIDE = ("host", "connectivity")

router = APIRouter(prefix="/api/v0/hosts", tags=["hosts"], responses=ERROR_RESPONSES)


@router.get("/{host_id}/monitored-statuses")
async def monitored_statuses(host_id: str, key: ReadKey, state: State) -> Response:
    host = await state.store.get_host(key.org_id, host_id)
    states = await state.store.target_states(key.org_id, host_id)  # this host's only
    statuses: list[dict[str, Any]] = []
    for doc in await state.store.list_documents(key.org_id, "monitor"):
        monitor = Monitor(doc.id, doc.spec)
        if monitor.type in HOST_SIDE and in_scope(monitor, host.roles):
            machine = states.get((monitor.id, host_id), {"level": "OK"})  # no state: never failed
            statuses.append({"monitorId": monitor.id, "status": machine["level"]})
    for check in await state.store.check_states(key.org_id, host_id):
        statuses.append(
            {
                "monitorId": check.monitor_id,
                "status": check.status,
                "detail": {"type": "check", "message": check.message, "memo": check.memo},
            }
        )
    return json_response({"monitoredStatuses": statuses})
