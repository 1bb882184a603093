"""Notification groups (api.md §8); the default group always exists and stays."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sabamon.server.api.alerting import json_body, json_response, validated
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, ServerState, State, WriteKey
from sabamon.server.api.errors import BadRequest
from sabamon.server.notify.groups import validate_group
from sabamon.server.store.alerts_types import Document
from sabamon.server.store.base import new_id

router = APIRouter(
    prefix="/api/v0/notification-groups", tags=["notification groups"], responses=ERROR_RESPONSES
)


async def default_group(state: ServerState, org_id: str) -> Document:
    """The organisation's default group, created (with every channel) on first use."""
    groups = await state.store.list_documents(org_id, "notification_group")
    for group in groups:
        if group.spec["type"] == "group-default":
            return group
    channels = await state.store.list_documents(org_id, "channel")
    spec = validate_group({"name": "Default", "childChannelIds": [c.id for c in channels]})
    doc = Document(new_id(), {**spec, "type": "group-default"})
    await state.store.put_document(org_id, "notification_group", doc, state.now())
    return doc


async def join_default_group(state: ServerState, org_id: str, channel_id: str) -> None:
    """Adds a channel to the default group (a default group created now has it already)."""
    group = await default_group(state, org_id)
    if channel_id not in group.spec["childChannelIds"]:
        group.spec["childChannelIds"].append(channel_id)
        await state.store.put_document(org_id, "notification_group", group, state.now())


@router.get("")
async def list_groups(key: ReadKey, state: State) -> Response:
    await default_group(state, key.org_id)
    docs = await state.store.list_documents(key.org_id, "notification_group")
    return json_response({"notificationGroups": [d.to_json() for d in docs]})


@router.post("")
async def create_group(request: Request, key: WriteKey, state: State) -> Response:
    await default_group(state, key.org_id)
    doc = Document(new_id(), validated(validate_group, await json_body(request)))
    await state.store.put_document(key.org_id, "notification_group", doc, state.now())
    return json_response(doc.to_json())


@router.put("/{group_id}")
async def update_group(group_id: str, request: Request, key: WriteKey, state: State) -> Response:
    old = await state.store.get_document(key.org_id, "notification_group", group_id)
    doc = Document(group_id, validated(validate_group, await json_body(request), old.spec))
    await state.store.put_document(key.org_id, "notification_group", doc, state.now())
    return json_response(doc.to_json())


@router.delete("/{group_id}")
async def delete_group(group_id: str, key: WriteKey, state: State) -> Response:
    old = await state.store.get_document(key.org_id, "notification_group", group_id)
    if old.spec["type"] == "group-default":
        raise BadRequest("the default notification group cannot be deleted")
    await state.store.delete_document(key.org_id, "notification_group", group_id)
    return json_response(old.to_json())
