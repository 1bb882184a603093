"""What the API and the dashboard share of a running server: the store, the clock, the
telemetry, the caches of the hot path, and how a route gets them (`State`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Request

from sabamon.server.alerts.closing import Closer
from sabamon.server.alerts.scheduler import AlertingOptions
from sabamon.server.outbound import OutboundPolicy
from sabamon.server.store import Store
from sabamon.server.store.records import ApiKey
from sabamon.server.telemetry import Telemetry

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class TtlCache(Generic[K, V]):
    """Answers the hot path remembers for `ttl` seconds instead of asking the store per
    request: API keys (a revoked key stops working within `ttl`, `app.KEY_CACHE_TTL`) and
    live host ids (a host retired through another worker process is refused within `ttl`)."""

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
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    """Where webhooks, Slack channels and external monitors may point (literal addresses
    are checked when a definition is saved, names when they are resolved)."""

    def now(self) -> int:
        return int(self.clock())


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


async def state_dependency(request: Request) -> ServerState:
    """`server_state` for `Depends`: async, so FastAPI calls it inline rather than through
    its thread pool (a sync dependency costs two thread switches per request)."""
    return server_state(request)


State = Annotated[ServerState, Depends(state_dependency)]


async def alert_closer(request: Request, state: ServerState) -> Closer:
    """Closes alerts with the notification, linking where the engine's notifications do."""
    options = getattr(request.app.state, "alerting", None) or AlertingOptions()
    org, _ = await state.store.ensure_org(options.org_name)
    return Closer(state.store, org.name, options.base_url, options.graph_images)
