"""What every route gets from the app: the store, the clock and the caller's key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from sabamon.server.api.errors import AUTH_FAILED, Forbidden, Unauthorized
from sabamon.server.store.base import ApiKey, NotFound, Store
from sabamon.server.telemetry import Telemetry

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class TtlCache(Generic[K, V]):
    """Answers the hot path remembers for `ttl` seconds instead of asking the store per
    request: API keys (a revoked key stops working within `ttl`, `app.KEY_CACHE_TTL`) and
    live host ids (a
    host retired through another worker process is refused within `ttl`)."""

    clock: Callable[[], float]
    ttl: float = 10.0
    entries: dict[K, tuple[V, float]] = field(default_factory=dict)

    def get(self, key: K) -> tuple[bool, V | None]:
        hit = self.entries.get(key)
        if hit is None or hit[1] < self.clock():
            return False, None
        return True, hit[0]

    def put(self, key: K, value: V) -> None:
        if len(self.entries) > 100_000:
            self.entries.clear()
        self.entries[key] = (value, self.clock() + self.ttl)

    def discard(self, key: K) -> None:
        self.entries.pop(key, None)


@dataclass
class ServerState:
    store: Store
    clock: Callable[[], float]
    telemetry: Telemetry
    keys: TtlCache[str, ApiKey | None]
    live_hosts: TtlCache[tuple[str, str], bool]

    def now(self) -> int:
        return int(self.clock())


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


async def state_dependency(request: Request) -> ServerState:
    """`server_state` for `Depends`: async, so FastAPI calls it inline rather than through
    its thread pool (a sync dependency costs two thread switches per request)."""
    return server_state(request)


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
State = Annotated[ServerState, Depends(state_dependency)]


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
