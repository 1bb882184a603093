"""Downtimes (api.md §9): windows, one-off or recurring, that silence notifications."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sabamon.server.alerts.downtimes import validate_downtime
from sabamon.server.api.alerting import json_body, json_response
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State, WriteKey
from sabamon.server.definitions import checked
from sabamon.server.store.alerts_types import Document
from sabamon.server.store.base import new_id

router = APIRouter(prefix="/api/v0/downtimes", tags=["downtimes"], responses=ERROR_RESPONSES)


@router.get("")
async def list_downtimes(key: ReadKey, state: State) -> Response:
    docs = await state.store.list_documents(key.org_id, "downtime")
    return json_response({"downtimes": [d.to_json() for d in docs]})


@router.post("")
async def create_downtime(request: Request, key: WriteKey, state: State) -> Response:
    doc = Document(new_id(), checked(validate_downtime, await json_body(request)))
    await state.store.put_document(key.org_id, "downtime", doc, state.now())
    return json_response(doc.to_json())


@router.put("/{downtime_id}")
async def update_downtime(
    downtime_id: str, request: Request, key: WriteKey, state: State
) -> Response:
    await state.store.get_document(key.org_id, "downtime", downtime_id)
    doc = Document(downtime_id, checked(validate_downtime, await json_body(request)))
    await state.store.put_document(key.org_id, "downtime", doc, state.now())
    return json_response(doc.to_json())


@router.delete("/{downtime_id}")
async def delete_downtime(downtime_id: str, key: WriteKey, state: State) -> Response:
    old = await state.store.delete_document(key.org_id, "downtime", downtime_id)
    return json_response(old.to_json())
