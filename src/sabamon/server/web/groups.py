"""Notification groups in the dashboard: list, a form (level, channels, monitor and
service scopes), delete. The default group always exists and cannot be deleted."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sabamon.server import definitions
from sabamon.server.alerts.monitors import Monitor, monitor_sort_key
from sabamon.server.definitions import DefinitionError
from sabamon.server.store.records import NotFound

from .documents import confirm_delete_page, find_document
from .forms import FormProblem, checked, text_fields
from .monitor_fields import error_field
from .notify_fields import group_body, group_form
from .render import missing, render
from .session import FormUser, PageUser, SignedIn, State

log = logging.getLogger(__name__)
router = APIRouter()


async def _choices(state: State, org_id: str) -> dict[str, list[tuple[str, str]]]:
    """(id, name) of the channels and monitors a group may name."""
    channels = await state.store.list_documents(org_id, "channel")
    docs = await state.store.list_documents(org_id, "monitor")
    monitors = sorted((Monitor(d.id, d.spec) for d in docs), key=monitor_sort_key)
    return {
        "channels": [(c.id, str(c.spec.get("name", ""))) for c in channels],
        "monitors": [(m.id, m.name) for m in monitors],
    }


async def _page(
    request: Request,
    state: State,
    signed_in: SignedIn,
    values: dict[str, str],
    group_id: str | None = None,
    error: str | None = None,
) -> Response:
    org_id = signed_in.user.org_id
    groups = await definitions.list_groups(state, org_id)
    choices = await _choices(state, org_id)
    names = dict(choices["channels"])
    rows: list[dict[str, Any]] = [
        {
            "id": g.id,
            "name": g.spec["name"],
            "default": definitions.is_default_group(g),
            "level": g.spec["notificationLevel"],
            "channels": [names.get(c, c) for c in g.spec["childChannelIds"]],
            "monitors": len(g.spec["monitors"]),
            "services": [s["name"] for s in g.spec["services"]],
        }
        for g in groups
    ]
    return render(
        request,
        "groups.html",
        signed_in,
        status_code=400 if error else 200,
        rows=rows,
        choices=choices,
        values=values,
        group_id=group_id,
        chosen_channels=values.get("childChannelIds", "").split(","),
        chosen_monitors=values.get("monitors", "").split(","),
        error=error,
        error_field=error_field(error) if error else None,
    )


@router.get("/ui/notification-groups")
async def groups_page(request: Request, state: State, signed_in: PageUser) -> Response:
    return await _page(request, state, signed_in, {"notificationLevel": "all"})


@router.post("/ui/notification-groups")
async def create_group(request: Request, state: State, signed_in: FormUser) -> Response:
    values = await text_fields(request)
    try:
        group = await definitions.create_group(
            state, signed_in.user.org_id, checked(group_body(values))
        )
    except (DefinitionError, FormProblem) as exc:
        return await _page(request, state, signed_in, values, error=str(exc))
    group_id = group.id
    log.info("event=group_created group=%s user=%s", group_id, signed_in.user.name)
    return RedirectResponse("/ui/notification-groups", status_code=303)


@router.get("/ui/notification-groups/{group_id}")
async def edit_group_form(
    request: Request, group_id: str, state: State, signed_in: PageUser
) -> Response:
    doc = await find_document(state, signed_in.user.org_id, "notification_group", group_id)
    if doc is None:
        return missing(request, signed_in, f"group {group_id}")
    return await _page(request, state, signed_in, group_form(doc.spec), group_id)


@router.post("/ui/notification-groups/{group_id}")
async def update_group(
    request: Request, group_id: str, state: State, signed_in: FormUser
) -> Response:
    org_id = signed_in.user.org_id
    doc = await find_document(state, org_id, "notification_group", group_id)
    if doc is None:
        return missing(request, signed_in, f"group {group_id}")
    values = await text_fields(request)
    try:
        body = checked(group_body(values, doc.spec))
        await definitions.update_group(state, org_id, group_id, body)
    except (DefinitionError, FormProblem) as exc:
        return await _page(request, state, signed_in, values, group_id, str(exc))
    log.info("event=group_updated group=%s user=%s", group_id, signed_in.user.name)
    return RedirectResponse("/ui/notification-groups", status_code=303)


@router.get("/ui/notification-groups/{group_id}/delete")
async def confirm_delete(
    request: Request, group_id: str, state: State, signed_in: PageUser
) -> Response:
    return await confirm_delete_page(
        request,
        state,
        signed_in,
        "notification_group",
        group_id,
        what="notification group",
        action=f"/ui/notification-groups/{group_id}/delete",
        back="/ui/notification-groups",
        consequence="Its channels stay; alerts it routed go to the other groups only.",
    )


@router.post("/ui/notification-groups/{group_id}/delete")
async def delete_group(
    request: Request, group_id: str, state: State, signed_in: FormUser
) -> Response:
    """Deletes a group; the default group stays, and the page says so (400)."""
    try:
        await definitions.delete_group(state, signed_in.user.org_id, group_id)
    except NotFound:
        return RedirectResponse("/ui/notification-groups", status_code=303)
    except DefinitionError as exc:
        return await _page(request, state, signed_in, {"notificationLevel": "all"}, error=str(exc))
    log.info("event=group_deleted group=%s user=%s", group_id, signed_in.user.name)
    return RedirectResponse("/ui/notification-groups", status_code=303)
