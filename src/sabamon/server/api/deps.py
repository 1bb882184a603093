"""What every route gets from the app: the store, the clock and the caller's key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from sabamon.server.api.errors import AUTH_FAILED, Forbidden, Unauthorized
from sabamon.server.state import ServerState as ServerState
from sabamon.server.state import State as State
from sabamon.server.state import TtlCache as TtlCache
from sabamon.server.state import server_state
from sabamon.server.store.records import ApiKey, NotFound

api_key_header = APIKeyHeader(name="X-Api-Key", auto_error=False)


async def read_access(
    request: Request, key: Annotated[str | None, Depends(api_key_header)]
) -> ApiKey:
    """The caller's key; 401 when it is missing, unknown or revoked."""
    if not key:
        raise Unauthorized(AUTH_FAILED)
    state = server_state(request)
    cached, api_key = state.keys.get(key)
    if not cached:
        api_key = await state.store.get_api_key(key)
        state.keys.put(key, api_key)
    if api_key is None:
        raise Unauthorized(AUTH_FAILED)
    return api_key


async def write_access(
    request: Request, key: Annotated[str | None, Depends(api_key_header)]
) -> ApiKey:
    """A key with write permission; 403 for a read-only key. It calls `read_access` itself
    rather than depending on it: one dependency level less on the ingest path."""
    api_key = await read_access(request, key)
    if not api_key.write:
        raise Forbidden("This API key has no write permission.")
    return api_key


ReadKey = Annotated[ApiKey, Depends(read_access)]
WriteKey = Annotated[ApiKey, Depends(write_access)]


async def is_live_host(state: ServerState, org_id: str, host_id: str) -> bool:
    """True when the host exists in the org and is not retired."""
    cached, live = state.live_hosts.get((org_id, host_id))
    if cached:
        return bool(live)
    try:
        live = not (await state.store.get_host(org_id, host_id)).is_retired
    except NotFound:
        live = False
    state.live_hosts.put((org_id, host_id), live)
    return live
