"""Alert group settings: list, create, get, update, delete in Mackerel's shape
(`sabamon.server.alerts.alert_groups`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sabamon.server.alerts.alert_groups import validate_alert_group_setting
from sabamon.server.api.alerting import document_json, json_body, json_response
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State, WriteKey
from sabamon.server.definitions import checked, create_alert_group_setting
from sabamon.server.store.records import Document, DocumentKind

router = APIRouter(
    prefix="/api/v0/alert-group-settings", tags=["alert group settings"], responses=ERROR_RESPONSES
)
KIND: DocumentKind = "alert_group_setting"


@router.get("")
async def list_settings(key: ReadKey, state: State) -> Response:
    docs = await state.store.list_documents(key.org_id, KIND)
    return json_response({"alertGroupSettings": [document_json(d) for d in docs]})


@router.post("")
async def create_setting(request: Request, key: WriteKey, state: State) -> Response:
    doc = await create_alert_group_setting(state, key.org_id, await json_body(request))
    return json_response(document_json(doc))


@router.get("/{setting_id}")
async def get_setting(setting_id: str, key: ReadKey, state: State) -> Response:
    return json_response(
        document_json(await state.store.get_document(key.org_id, KIND, setting_id))
    )


@router.put("/{setting_id}")
async def update_setting(
    setting_id: str, request: Request, key: WriteKey, state: State
) -> Response:
    await state.store.get_document(key.org_id, KIND, setting_id)
    doc = Document(setting_id, checked(validate_alert_group_setting, await json_body(request)))
    await state.store.put_document(key.org_id, KIND, doc, state.now())
    return json_response(document_json(doc))


@router.delete("/{setting_id}")
async def delete_setting(setting_id: str, key: WriteKey, state: State) -> Response:
    return json_response(
        document_json(await state.store.delete_document(key.org_id, KIND, setting_id))
    )
