"""The organisation (`GET /api/v0/org`, `mkr org`): `{"name": ...}` as Mackerel answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sabamon.server.alerts.scheduler import AlertingOptions
from sabamon.server.api.alerting import json_response
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State

router = APIRouter(prefix="/api/v0", tags=["org"], responses=ERROR_RESPONSES)


@router.get("/org")
async def get_org(request: Request, key: ReadKey, state: State) -> Response:
    """`{"name": NAME}`: the server's organisation (made at first start, "default")."""
    options = getattr(request.app.state, "alerting", None) or AlertingOptions()
    org, _ = await state.store.ensure_org(options.org_name)
    return json_response({"name": org.name})
