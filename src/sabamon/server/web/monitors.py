"""Monitors in the dashboard: the list, a form per type, a JSON editor, delete.

Definitions go through the rules the API uses (`server/definitions.py`), so a form shows
the same message as the API's 400, next to the field it names. Check monitors come from the
agents' check reports and are listed read-only.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sabamon.server import definitions
from sabamon.server.alerts.monitors import (
    Monitor,
    monitor_sort_key,
)
from sabamon.server.definitions import DefinitionError
from sabamon.server.state import alert_closer
from sabamon.server.store.records import NotFound

from .alert_state import summarise
from .documents import confirm_delete_page, find_document
from .forms import FormProblem, checked, parse_json_text, pretty, text_fields
from .monitor_fields import (
    TYPE_FIELDS,
    TYPE_LABELS,
    error_field,
    fields_for,
    form_to_body,
    spec_to_form,
    target_of,
    thresholds_of,
)
from .render import missing, render
from .session import FormUser, PageUser, SignedIn, State

log = logging.getLogger(__name__)
router = APIRouter()
CHECK_MONITORS_SHOWN = 1000


@router.get("/ui/monitors")
async def monitors_page(request: Request, state: State, signed_in: PageUser) -> Response:
    org_id = signed_in.user.org_id
    docs, open_alerts = await asyncio.gather(
        state.store.list_documents(org_id, "monitor"), state.store.open_alerts(org_id)
    )
    states = summarise(open_alerts, "monitor_id")
    monitors = sorted((Monitor(d.id, d.spec) for d in docs), key=monitor_sort_key)
    rows = [
        {
            "id": m.id,
            "type": TYPE_LABELS.get(m.type, m.type),
            "name": m.name,
            "target": target_of(m.spec),
            "thresholds": thresholds_of(m.spec),
            "muted": bool(m.get("isMute")),
            "state": states.get(m.id),
        }
        for m in monitors
    ]
    checks = await state.store.list_check_monitors(org_id, None, CHECK_MONITORS_SHOWN)
    return render(
        request,
        "monitors.html",
        signed_in,
        rows=rows,
        checks=checks,
        check_states=states,
        types=[(kind, TYPE_LABELS[kind]) for kind in TYPE_FIELDS],
    )


def _form_page(
    request: Request,
    signed_in: SignedIn,
    kind: str,
    values: dict[str, str],
    monitor_id: str | None = None,
    error: str | None = None,
) -> Response:
    return render(
        request,
        "monitor_form.html",
        signed_in,
        status_code=400 if error else 200,
        kind=kind,
        label=TYPE_LABELS[kind],
        fields=fields_for(kind),
        values=values,
        monitor_id=monitor_id,
        error=error,
        error_field=error_field(error) if error else None,
    )


@router.get("/ui/monitors/new/{kind}")
async def new_monitor_form(
    request: Request, kind: str, signed_in: PageUser, state: State
) -> Response:
    if kind not in TYPE_FIELDS:
        return missing(request, signed_in, f"type {kind}")
    return _form_page(request, signed_in, kind, {"operator": ">", "duration": "1"})


@router.post("/ui/monitors/new/{kind}")
async def create_monitor(
    request: Request, kind: str, state: State, signed_in: FormUser
) -> Response:
    if kind not in TYPE_FIELDS:
        return missing(request, signed_in, f"type {kind}")
    values = await text_fields(request)
    try:
        body = checked(form_to_body(kind, values))
        monitor = await definitions.create_monitor(state, signed_in.user.org_id, body)
    except (DefinitionError, FormProblem) as exc:
        return _form_page(request, signed_in, kind, values, error=str(exc))
    monitor_id = monitor.id
    log.info("event=monitor_created monitor=%s user=%s", monitor_id, signed_in.user.name)
    return RedirectResponse("/ui/monitors", status_code=303)


@router.get("/ui/monitors/json")
async def json_editor(
    request: Request, state: State, signed_in: PageUser, id: str = ""
) -> Response:
    text = ""
    if id:
        doc = await find_document(state, signed_in.user.org_id, "monitor", id)
        if doc is None:
            return missing(request, signed_in, f"monitor {id}")
        text = pretty(Monitor(doc.id, doc.spec).to_json())
    return render(request, "monitor_json.html", signed_in, text=text, error=None)


@router.post("/ui/monitors/json")
async def save_json(request: Request, state: State, signed_in: FormUser) -> Response:
    """Creates the pasted monitor, or replaces the one its `id` names."""
    org_id = signed_in.user.org_id
    text = (await text_fields(request)).get("json", "")
    try:
        body = parse_json_text(text)
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            try:
                monitor = await definitions.update_monitor(state, org_id, body["id"], body)
            except NotFound:
                raise FormProblem(f"id: no monitor {body['id']}") from None
        else:
            monitor = await definitions.create_monitor(state, org_id, body)
    except (DefinitionError, FormProblem) as exc:
        return render(
            request, "monitor_json.html", signed_in, status_code=400, text=text, error=str(exc)
        )
    monitor_id = monitor.id
    log.info("event=monitor_saved monitor=%s user=%s", monitor_id, signed_in.user.name)
    return RedirectResponse("/ui/monitors", status_code=303)


@router.get("/ui/monitors/{monitor_id}")
async def edit_monitor_form(
    request: Request, monitor_id: str, state: State, signed_in: PageUser
) -> Response:
    doc = await find_document(state, signed_in.user.org_id, "monitor", monitor_id)
    if doc is None:
        return missing(request, signed_in, f"monitor {monitor_id}")
    return _form_page(request, signed_in, doc.spec["type"], spec_to_form(doc.spec), monitor_id)


@router.post("/ui/monitors/{monitor_id}")
async def update_monitor(
    request: Request, monitor_id: str, state: State, signed_in: FormUser
) -> Response:
    org_id = signed_in.user.org_id
    doc = await find_document(state, org_id, "monitor", monitor_id)
    if doc is None:
        return missing(request, signed_in, f"monitor {monitor_id}")
    kind = doc.spec["type"]
    values = await text_fields(request)
    try:
        body = checked(form_to_body(kind, values, doc.spec))
        await definitions.update_monitor(state, org_id, monitor_id, body)
    except (DefinitionError, FormProblem) as exc:
        return _form_page(request, signed_in, kind, values, monitor_id, str(exc))
    log.info("event=monitor_updated monitor=%s user=%s", monitor_id, signed_in.user.name)
    return RedirectResponse("/ui/monitors", status_code=303)


@router.get("/ui/monitors/{monitor_id}/delete")
async def confirm_delete(
    request: Request, monitor_id: str, state: State, signed_in: PageUser
) -> Response:
    return await confirm_delete_page(
        request,
        state,
        signed_in,
        "monitor",
        monitor_id,
        what="monitor",
        action=f"/ui/monitors/{monitor_id}/delete",
        back="/ui/monitors",
        consequence="Its open alerts are closed.",
    )


@router.post("/ui/monitors/{monitor_id}/delete")
async def delete_monitor(
    request: Request, monitor_id: str, state: State, signed_in: FormUser
) -> Response:
    """Deletes the monitor and closes its open alerts, as DELETE /api/v0/monitors/<id>."""
    org_id = signed_in.user.org_id
    closer = await alert_closer(request, state)
    try:
        await definitions.delete_monitor(state, closer, org_id, monitor_id)
    except NotFound:
        return RedirectResponse("/ui/monitors", status_code=303)
    log.info("event=monitor_deleted monitor=%s user=%s", monitor_id, signed_in.user.name)
    return RedirectResponse("/ui/monitors", status_code=303)
