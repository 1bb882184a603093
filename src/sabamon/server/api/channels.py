"""Notification channels (api.md §8), their test notification and delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sabamon.server.api.alerting import json_body, json_response, page_limit, validated
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State, WriteKey
from sabamon.server.api.notification_groups import join_default_group
from sabamon.server.notify.channels import validate_channel
from sabamon.server.notify.payload import sample_body
from sabamon.server.notify.webhook import without_body
from sabamon.server.store.alerts_types import Document, NewDelivery
from sabamon.server.store.base import new_id

router = APIRouter(prefix="/api/v0/channels", tags=["channels"], responses=ERROR_RESPONSES)


@router.get("")
async def list_channels(key: ReadKey, state: State) -> Response:
    docs = await state.store.list_documents(key.org_id, "channel")
    return json_response({"channels": [d.to_json() for d in docs]})


@router.post("")
async def create_channel(request: Request, key: WriteKey, state: State) -> Response:
    body = await json_body(request)
    doc = Document(new_id(), validated(validate_channel, body))
    await state.store.put_document(key.org_id, "channel", doc, state.now())
    if isinstance(body, dict) and body.get("addToDefaultNotificationGroup"):
        await join_default_group(state, key.org_id, doc.id)
    return json_response(doc.to_json())


@router.put("/{channel_id}")
async def update_channel(
    channel_id: str, request: Request, key: WriteKey, state: State
) -> Response:
    old = await state.store.get_document(key.org_id, "channel", channel_id)
    spec = validated(validate_channel, await json_body(request), old.spec["type"])
    doc = Document(channel_id, spec)
    await state.store.put_document(key.org_id, "channel", doc, state.now())
    return json_response(doc.to_json())


@router.delete("/{channel_id}")
async def delete_channel(channel_id: str, key: WriteKey, state: State) -> Response:
    old = await state.store.delete_document(key.org_id, "channel", channel_id)
    return json_response(old.to_json())


@router.post("/{channel_id}/test")
async def test_notification(channel_id: str, key: WriteKey, state: State) -> Response:
    """Queues the sample notification; the delivery log shows how it went."""
    channel = await state.store.get_document(key.org_id, "channel", channel_id)
    delivery = NewDelivery(channel_id, f"test:{new_id()}", sample_body(channel.spec["type"]))
    await state.store.enqueue_deliveries(key.org_id, [delivery], state.now())
    return json_response({"success": True})


@router.get("/{channel_id}/deliveries")
async def channel_deliveries(
    channel_id: str,
    key: ReadKey,
    state: State,
    limit: Annotated[int | None, Query()] = None,
) -> Response:
    """The channel's delivery log, newest first: state, attempts and the last error
    (for a read-only key, without the receiver's response body)."""
    await state.store.get_document(key.org_id, "channel", channel_id)
    deliveries = await state.store.list_deliveries(key.org_id, channel_id, page_limit(limit))
    log = [d.to_json() for d in deliveries]
    if not key.write:
        for entry in log:
            entry["lastError"] = without_body(entry["lastError"])
    return json_response({"deliveries": log})
