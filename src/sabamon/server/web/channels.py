"""Notification channels in the dashboard: list, forms, delete, test button, delivery log.

The delivery log is the store's delivery queue (state, attempts, last error, next
retry), so a failing channel's retries are visible as they happen.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sabamon.server import definitions
from sabamon.server.definitions import DefinitionError
from sabamon.server.store.records import NotFound

from .documents import confirm_delete_page, find_document
from .forms import FormProblem, checked, text_fields
from .monitor_fields import error_field
from .notify_fields import (
    CHANNEL_FIELDS,
    CHANNEL_LABELS,
    GRAPH_IMAGE,
    channel_body,
    channel_form,
    channel_target,
)
from .render import missing, render
from .session import FormUser, PageUser, SignedIn, State

log = logging.getLogger(__name__)
router = APIRouter()
RECENT_DELIVERIES = 5
DEFAULT_GROUP_FIELD = "addToDefaultNotificationGroup"
"""The new-channel form's box, ticked at first, as the API's field of that name."""
DELIVERY_LOG = 50


@router.get("/ui/channels")
async def channels_page(request: Request, state: State, signed_in: PageUser) -> Response:
    org_id = signed_in.user.org_id
    channels, groups = await asyncio.gather(
        state.store.list_documents(org_id, "channel"),
        state.store.list_documents(org_id, "notification_group"),
    )
    grouped = {c for g in groups for c in g.spec.get("childChannelIds", [])}
    rows = [
        {
            "id": c.id,
            "name": c.spec.get("name", ""),
            "type": c.spec.get("type", ""),
            "target": channel_target(c.spec),
            "events": ", ".join(c.spec.get("events", [])),
            "deliveries": await state.store.list_deliveries(org_id, c.id, RECENT_DELIVERIES),
            # without any group every channel receives every alert (notify.groups.route)
            "ungrouped": bool(groups) and c.id not in grouped,
        }
        for c in channels
    ]
    kinds = [(kind, CHANNEL_LABELS[kind]) for kind in CHANNEL_FIELDS]
    return render(request, "channels.html", signed_in, rows=rows, kinds=kinds)


async def _channel_page(
    request: Request,
    state: State,
    signed_in: SignedIn,
    kind: str,
    values: dict[str, str],
    channel_id: str | None = None,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    deliveries = []
    if channel_id:
        org_id = signed_in.user.org_id
        deliveries = await state.store.list_deliveries(org_id, channel_id, DELIVERY_LOG)
    return render(
        request,
        "channel.html",
        signed_in,
        status_code=400 if error else 200,
        kind=kind,
        label=CHANNEL_LABELS[kind],
        fields=CHANNEL_FIELDS[kind],
        values=values,
        channel_id=channel_id,
        deliveries=deliveries,
        error=error,
        error_field=error_field(error) if error else None,
        notice=notice,
    )


@router.get("/ui/channels/new/{kind}")
async def new_channel_form(
    request: Request, kind: str, state: State, signed_in: PageUser
) -> Response:
    if kind not in CHANNEL_FIELDS:
        return missing(request, signed_in, f"channel type {kind}")
    values = {"events": "alert", DEFAULT_GROUP_FIELD: "on", GRAPH_IMAGE.key: "on"}
    return await _channel_page(request, state, signed_in, kind, values)


@router.post("/ui/channels/new/{kind}")
async def create_channel(
    request: Request, kind: str, state: State, signed_in: FormUser
) -> Response:
    if kind not in CHANNEL_FIELDS:
        return missing(request, signed_in, f"channel type {kind}")
    values = await text_fields(request)
    join = values.get(DEFAULT_GROUP_FIELD) == "on"
    try:
        body = checked(channel_body(kind, values))
        channel = await definitions.create_channel(
            state, signed_in.user.org_id, body, join_default=join
        )
    except (DefinitionError, FormProblem) as exc:
        return await _channel_page(request, state, signed_in, kind, values, error=str(exc))
    channel_id = channel.id
    log.info("event=channel_created channel=%s user=%s", channel_id, signed_in.user.name)
    return RedirectResponse(f"/ui/channels/{channel_id}", status_code=303)


@router.get("/ui/channels/{channel_id}")
async def channel_page(
    request: Request, channel_id: str, state: State, signed_in: PageUser, tested: bool = False
) -> Response:
    doc = await find_document(state, signed_in.user.org_id, "channel", channel_id)
    if doc is None:
        return missing(request, signed_in, f"channel {channel_id}")
    if doc.spec["type"] not in CHANNEL_FIELDS:
        return missing(request, signed_in, f"channel type {doc.spec['type']}")
    notice = "Test notification queued: its delivery shows below." if tested else None
    values = channel_form(doc.spec)
    return await _channel_page(
        request, state, signed_in, doc.spec["type"], values, channel_id, notice=notice
    )


@router.post("/ui/channels/{channel_id}")
async def update_channel(
    request: Request, channel_id: str, state: State, signed_in: FormUser
) -> Response:
    org_id = signed_in.user.org_id
    doc = await find_document(state, org_id, "channel", channel_id)
    if doc is None:
        return missing(request, signed_in, f"channel {channel_id}")
    kind = doc.spec["type"]
    values = await text_fields(request)
    try:
        body = checked(channel_body(kind, values, doc.spec))
        await definitions.update_channel(state, org_id, channel_id, body)
    except (DefinitionError, FormProblem) as exc:
        return await _channel_page(
            request, state, signed_in, kind, values, channel_id, error=str(exc)
        )
    log.info("event=channel_updated channel=%s user=%s", channel_id, signed_in.user.name)
    return RedirectResponse(f"/ui/channels/{channel_id}", status_code=303)


@router.post("/ui/channels/{channel_id}/test")
async def send_test(channel_id: str, state: State, signed_in: FormUser) -> Response:
    """Queues the sample notification, as POST /api/v0/channels/<id>/test does."""
    try:
        await definitions.send_test_notification(state, signed_in.user.org_id, channel_id)
    except NotFound:
        return RedirectResponse("/ui/channels", status_code=303)
    log.info("event=channel_test_queued channel=%s user=%s", channel_id, signed_in.user.name)
    return RedirectResponse(f"/ui/channels/{channel_id}?tested=true#deliveries", status_code=303)


@router.get("/ui/channels/{channel_id}/delete")
async def confirm_delete(
    request: Request, channel_id: str, state: State, signed_in: PageUser
) -> Response:
    return await confirm_delete_page(
        request,
        state,
        signed_in,
        "channel",
        channel_id,
        what="channel",
        action=f"/ui/channels/{channel_id}/delete",
        back=f"/ui/channels/{channel_id}",
        consequence="Notifications still queued for it are not sent.",
    )


@router.post("/ui/channels/{channel_id}/delete")
async def delete_channel(channel_id: str, state: State, signed_in: FormUser) -> Response:
    try:
        await definitions.delete_channel(state, signed_in.user.org_id, channel_id)
    except NotFound:
        pass
    else:
        log.info("event=channel_deleted channel=%s user=%s", channel_id, signed_in.user.name)
    return RedirectResponse("/ui/channels", status_code=303)
