"""Notification channels (api.md §8), their test notification and delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sabamon.server import definitions
from sabamon.server.api.alerting import document_json, json_body, json_response, page_limit
from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, State, WriteKey
from sabamon.server.notify.webhook import without_body
from sabamon.server.store.records import Delivery

router = APIRouter(prefix="/api/v0/channels", tags=["channels"], responses=ERROR_RESPONSES)


@router.get("")
async def list_channels(key: ReadKey, state: State) -> Response:
    docs = await state.store.list_documents(key.org_id, "channel")
    return json_response({"channels": [document_json(d) for d in docs]})


@router.post("")
async def create_channel(request: Request, key: WriteKey, state: State) -> Response:
    body = await json_body(request)
    join = isinstance(body, dict) and bool(body.get("addToDefaultNotificationGroup"))
    doc = await definitions.create_channel(state, key.org_id, body, join_default=join)
    return json_response(document_json(doc))


@router.put("/{channel_id}")
async def update_channel(
    channel_id: str, request: Request, key: WriteKey, state: State
) -> Response:
    body = await json_body(request)
    doc = await definitions.update_channel(state, key.org_id, channel_id, body)
    return json_response(document_json(doc))


@router.delete("/{channel_id}")
async def delete_channel(channel_id: str, key: WriteKey, state: State) -> Response:
    old = await definitions.delete_channel(state, key.org_id, channel_id)
    return json_response(document_json(old))


@router.post("/{channel_id}/test")
async def test_notification(channel_id: str, key: WriteKey, state: State) -> Response:
    """Queues the sample notification; the delivery log shows how it went."""
    await definitions.send_test_notification(state, key.org_id, channel_id)
    return json_response({"success": True})


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    """One entry of a channel's delivery log."""
    return {
        "id": delivery.id,
        "channelId": delivery.channel_id,
        "event": delivery.event_key,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "nextAttemptAt": delivery.next_attempt_at,
        "lastError": delivery.last_error,
        "createdAt": delivery.created_at,
        "sentAt": delivery.sent_at,
    }


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
    log = [delivery_json(d) for d in deliveries]
    if not key.write:
        for entry in log:
            entry["lastError"] = without_body(entry["lastError"])
    return json_response({"deliveries": log})
