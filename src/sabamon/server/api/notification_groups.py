"""Notification groups (api.md §8); the rules live in `server/definitions.py`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sabamon.server import definitions
from sabamon.server.api.alerting import document_json, json_body, json_response
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State, WriteKey

router = APIRouter(
    prefix="/api/v0/notification-groups", tags=["notification groups"], responses=ERROR_RESPONSES
)


@router.get("")
async def list_groups(key: ReadKey, state: State) -> Response:
    docs = await definitions.list_groups(state, key.org_id)
    return json_response({"notificationGroups": [document_json(d) for d in docs]})


@router.post("")
async def create_group(request: Request, key: WriteKey, state: State) -> Response:
    body = await json_body(request)
    doc = await definitions.create_group(state, key.org_id, body)
    return json_response(document_json(doc))


@router.put("/{group_id}")
async def update_group(group_id: str, request: Request, key: WriteKey, state: State) -> Response:
    body = await json_body(request)
    doc = await definitions.update_group(state, key.org_id, group_id, body)
    return json_response(document_json(doc))


@router.delete("/{group_id}")
async def delete_group(group_id: str, key: WriteKey, state: State) -> Response:
    doc = await definitions.delete_group(state, key.org_id, group_id)
    return json_response(document_json(doc))
