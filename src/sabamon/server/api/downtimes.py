"""Downtimes (api.md §9): windows, one-off or recurring, that silence notifications."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sabamon.server import definitions
from sabamon.server.api.alerting import document_json, json_body, json_response
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State, WriteKey

router = APIRouter(prefix="/api/v0/downtimes", tags=["downtimes"], responses=ERROR_RESPONSES)


@router.get("")
async def list_downtimes(key: ReadKey, state: State) -> Response:
    docs = await state.store.list_documents(key.org_id, "downtime")
    return json_response({"downtimes": [document_json(d) for d in docs]})


@router.post("")
async def create_downtime(request: Request, key: WriteKey, state: State) -> Response:
    doc = await definitions.create_downtime(state, key.org_id, await json_body(request))
    return json_response(document_json(doc))


@router.put("/{downtime_id}")
async def update_downtime(
    downtime_id: str, request: Request, key: WriteKey, state: State
) -> Response:
    body = await json_body(request)
    doc = await definitions.update_downtime(state, key.org_id, downtime_id, body)
    return json_response(document_json(doc))


@router.delete("/{downtime_id}")
async def delete_downtime(downtime_id: str, key: WriteKey, state: State) -> Response:
    old = await definitions.delete_downtime(state, key.org_id, downtime_id)
    return json_response(document_json(old))
