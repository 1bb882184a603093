"""Settings pages: API keys (a new key is shown in full once, then only its start) and the
user's time zone (chosen in every page's header, kept on the server per user)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from sabamon.server.store.records import ApiKey

from .login import safe_next
from .render import missing, render
from .session import FormUser, PageUser, State
from .zones import parse_zone

log = logging.getLogger(__name__)
router = APIRouter()
KEY_PREFIX_SHOWN = 6


@router.get("/ui/settings/api-keys")
async def api_keys_page(request: Request, state: State, signed_in: PageUser) -> Response:
    keys = await state.store.list_api_keys(signed_in.user.org_id)
    return render(
        request, "api_keys.html", signed_in, keys=keys, new_key=None, shown=KEY_PREFIX_SHOWN
    )


@router.post("/ui/settings/api-keys")
async def create_api_key(
    request: Request,
    state: State,
    signed_in: FormUser,
    name: str = Form(""),
    access: str = Form("write"),
) -> Response:
    org_id = signed_in.user.org_id
    created = await state.store.create_api_key(org_id, name=name[:128], write=access == "write")
    log.info("event=api_key_created user=%s name=%r", signed_in.user.name, created.name)
    keys = await state.store.list_api_keys(org_id)
    return render(
        request, "api_keys.html", signed_in, keys=keys, new_key=created, shown=KEY_PREFIX_SHOWN
    )


@router.get("/ui/settings/time-zone")
async def time_zone_page(request: Request, signed_in: PageUser) -> Response:
    return render(request, "time_zone.html", signed_in, error=None, given="")


@router.post("/ui/settings/time-zone")
async def set_time_zone(
    request: Request,
    state: State,
    signed_in: FormUser,
    zone: str = Form(""),
    next: str = Form("/ui/settings/time-zone"),
) -> Response:
    """Keeps the user's zone ("" = the browser's) and goes back to the page it was chosen
    on; an unknown name gets the settings page with the error (400)."""
    try:
        chosen = parse_zone(zone)
    except ValueError as exc:
        return render(request, "time_zone.html", signed_in, status_code=400, error=str(exc),
                      given=zone[:80])  # fmt: skip
    await state.store.set_user_time_zone(signed_in.user.name, chosen)
    log.info("event=time_zone_set user=%s zone=%s", signed_in.user.name, chosen or "browser")
    return RedirectResponse(safe_next(next), status_code=303)


async def find_key(state: State, org_id: str, prefix: str, created_at: int) -> ApiKey | None:
    """Keys are addressed by their shown start and creation time, never by the full key."""
    for key in await state.store.list_api_keys(org_id):
        if prefix and key.key.startswith(prefix) and key.created_at == created_at:
            return key
    return None


@router.get("/ui/settings/api-keys/revoke")
async def confirm_revoke(
    request: Request, state: State, signed_in: PageUser, prefix: str = "", created_at: int = 0
) -> Response:
    """ "Revoke this key?", as the other deletions ask."""
    key = await find_key(state, signed_in.user.org_id, prefix, created_at)
    if key is None:
        return missing(request, signed_in, f"API key {prefix}…")
    return render(
        request, "confirm_delete.html", signed_in,
        verb="Revoke", what="API key", name=key.name or f"{prefix}…",
        action="/ui/settings/api-keys/revoke", back="/ui/settings/api-keys",
        consequence="Agents and tools that use this key are refused from now on; this cannot"
        " be undone.",
        hidden={"prefix": prefix, "created_at": created_at},
    )  # fmt: skip


@router.post("/ui/settings/api-keys/revoke")
async def revoke_api_key(
    state: State, signed_in: FormUser, prefix: str = Form(), created_at: int = Form()
) -> Response:
    key = await find_key(state, signed_in.user.org_id, prefix, created_at)
    if key is not None:
        await state.store.revoke_api_key(key.key)
        log.info("event=api_key_revoked user=%s name=%r", signed_in.user.name, key.name)
    return RedirectResponse("/ui/settings/api-keys", status_code=303)
