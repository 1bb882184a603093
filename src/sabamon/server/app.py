"""The server application: routes, error handlers, middleware and background jobs.

`create_app(store)` builds it around an unopened store; the lifespan opens the store,
runs rollup and expiry every `maintenance_interval` seconds off the request path, and
closes the store on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from starlette.responses import Response

from sabamon import __version__
from sabamon.server.api import checks, graphdefs, hosts, metadata, services, tsdb
from sabamon.server.api.deps import ServerState, State, TtlCache
from sabamon.server.api.errors import install_error_handlers
from sabamon.server.api.limits import MAX_BODY_BYTES, BodySizeLimit
from sabamon.server.api.telemetry import RequestCounter, Telemetry
from sabamon.server.store.base import Store
from sabamon.server.web.install import install_dashboard

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL = 60.0


async def run_maintenance(
    store: Store, clock: Callable[[], float], interval: float, stop: asyncio.Event
) -> None:
    """Rollup then expiry every `interval` seconds until `stop` is set; errors are logged."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        now = int(clock())
        try:
            buckets = await store.rollup(now)
            deleted = await store.expire(now)
        except Exception as exc:
            log.error("event=maintenance_failed now=%d error=%r", now, exc)
            continue
        log.debug("event=maintenance now=%d buckets=%d deleted=%d", now, buckets, deleted)


def create_app(
    store: Store,
    *,
    clock: Callable[[], float] = time.time,
    maintenance_interval: float = MAINTENANCE_INTERVAL,
    cache_ttl: float = 10.0,
    body_limit: int = MAX_BODY_BYTES,
) -> FastAPI:
    telemetry = Telemetry()
    state = ServerState(
        store=store,
        clock=clock,
        telemetry=telemetry,
        keys=TtlCache(time.monotonic, cache_ttl),
        live_hosts=TtlCache(time.monotonic, cache_ttl),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await store.open()
        stop = asyncio.Event()
        maintenance = asyncio.create_task(run_maintenance(store, clock, maintenance_interval, stop))
        log.info("event=server_started store=%s", type(store).__name__)
        try:
            yield
        finally:
            stop.set()
            await maintenance
            await store.close()
            log.info("event=server_stopped")

    app = FastAPI(
        title="sabamon",
        version=__version__,
        summary="A server answering the Mackerel v0 API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = state
    install_error_handlers(app)
    for module in (hosts, tsdb, services, graphdefs, checks, metadata):
        app.include_router(module.router)
    install_dashboard(app)

    @app.get("/healthz", tags=["server"])
    async def healthz(server: State) -> Response:
        """200 when the store answers, 503 otherwise."""
        healthy = await server.store.ping()
        body = b'{"status":"ok"}' if healthy else b'{"status":"store unreachable"}'
        return Response(body, status_code=200 if healthy else 503, media_type="application/json")

    @app.get("/metrics", tags=["server"], response_class=PlainTextResponse)
    async def prometheus_metrics(server: State) -> str:
        return server.telemetry.render()

    app.add_middleware(BodySizeLimit, limit=body_limit)
    app.add_middleware(RequestCounter, telemetry=telemetry)
    return app
