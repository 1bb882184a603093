"""The server application: routes, error handlers, middleware and background jobs.

`create_app(store)` builds it around an unopened store; the lifespan opens the store,
runs rollup and expiry every `maintenance_interval` seconds off the request path (unless
`maintenance=False`: a process of their own runs them, `server/maintainer`), and on
shutdown stops them between chunks (within `SHUTDOWN_GRACE` seconds) and closes the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response

from sabamon import __version__
from sabamon.server.alerts.scheduler import CHECK_REPORTS, AlertingOptions, run_alerting_service
from sabamon.server.api import (
    alert_group_settings,
    alerts,
    channels,
    checks,
    downtimes,
    graphdefs,
    hosts,
    metadata,
    monitored_statuses,
    monitors,
    notification_groups,
    org,
    services,
    tsdb,
)
from sabamon.server.api.deps import ServerState, State, TtlCache
from sabamon.server.api.errors import install_error_handlers
from sabamon.server.api.limits import BODY_TIMEOUT, MAX_BODY_BYTES, RequestBody
from sabamon.server.cluster import Coordinator, SoloNode
from sabamon.server.cluster.wiring import run_maintenance_once
from sabamon.server.shedding import LoadShedder, SheddingLimits
from sabamon.server.store import Store
from sabamon.server.telemetry import (
    CONTENT_TYPE,
    RequestCounter,
    Telemetry,
    process_exited,
    sample_queues,
)
from sabamon.server.web.install import install_dashboard

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL = 60.0
KEY_CACHE_TTL = 1.0
"""Seconds a worker trusts its answer for an API key: a revoked key stops working on every
worker within this (one key lookup per key, worker and second on a busy server)."""
HEALTH_TIMEOUT = 0.8
"""Seconds /healthz waits for each store's answer before naming it as failing."""
SHUTDOWN_GRACE = 3.0
"""Seconds shutdown waits for a background task before cancelling it."""
DEFAULT_ALERTING = AlertingOptions()
GZIP_MINIMUM = 1024
GZIP_LEVEL = 1
GZIP_IN_THREAD = 0
"""Responses over 1 KiB are gzipped for clients that accept it: a week-long host page
moves 0.79 MB instead of 2.53 MB (bench/dashboard.py). Level 1 compresses a 136 kB graph
body in 1.7 ms against 7.3 ms at level 5, for a body 5 % larger. Every body is compressed
on a worker thread (zlib lets go of the GIL), never on the event loop: with compression
inline, a 25-graph page took 1.71 s to draw against 0.69 s (medians of 7 interleaved loads
on two servers over one data folder)."""


async def run_maintenance(
    store: Store,
    clock: Callable[[], float],
    interval: float,
    stop: asyncio.Event,
    coordinator: Coordinator | None = None,
    telemetry: Telemetry | None = None,
) -> None:
    """Rollup then expiry every `interval` seconds until `stop` is set; errors are logged,
    each job's time is observed in `telemetry`.

    In a cluster each 60-second slot of the clock is maintained by one member only.
    """
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        now = int(clock())
        if coordinator is not None:
            await run_maintenance_once(store, coordinator, now, int(MAINTENANCE_INTERVAL))
            continue
        try:
            started = time.perf_counter()
            buckets = await store.series.compact(now, stop)
            compacted = time.perf_counter()
            deleted = await store.series.expire(now, stop) + await store.expire(now, stop)
            if telemetry is not None:
                timings = telemetry.maintenance_seconds
                timings.labels("compact").observe(compacted - started)
                timings.labels("expire").observe(time.perf_counter() - compacted)
        except Exception as exc:
            log.error("event=maintenance_failed now=%d error=%r", now, exc)
            continue
        log.debug("event=maintenance now=%d buckets=%d deleted=%d", now, buckets, deleted)


async def finish(task: asyncio.Task[None], grace: float) -> None:
    """Waits up to `grace` seconds for a task told to stop, then cancels it.

    Maintenance stops by itself between chunks; the cancel is for work that cannot see
    the stop event (a cluster's coordinated run). Every chunk is one transaction, so a
    cancelled chunk rolls back whole and the next run redoes it.
    """
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        log.warning("event=shutdown_cancel task=%s grace=%.1f", task.get_name(), grace)
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class Probe:
    """Asks one part whether it answers, waiting at most `timeout` seconds.

    A database that accepts the connection and never answers is as unreachable as one
    that refuses it. An unanswered ping is left running rather than cancelled and waited
    for (psycopg's cancel itself waits on the dead link), and no second ping starts
    while it runs: repeated /healthz calls cost one waiting ping, not one each.
    """

    def __init__(self, ping: Callable[[], Awaitable[bool]]) -> None:
        self.ping = ping
        self.running: asyncio.Task[bool] | None = None

    async def answers(self, timeout: float) -> bool:
        if self.running is None or self.running.done():
            self.running = asyncio.ensure_future(self.ping())
        done, _ = await asyncio.wait({self.running}, timeout=timeout)
        if not done:
            return False
        try:
            return self.running.result()
        except Exception:
            return False


def without_422(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The app's OpenAPI document minus FastAPI's 422 responses: validation failures are
    400s here, which every route documents."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def create_app(
    store: Store,
    *,
    clock: Callable[[], float] = time.time,
    maintenance_interval: float = MAINTENANCE_INTERVAL,
    maintenance: bool = True,
    cache_ttl: float = 10.0,
    key_cache_ttl: float = KEY_CACHE_TTL,
    body_limit: int = MAX_BODY_BYTES,
    body_timeout: float = BODY_TIMEOUT,
    alerting: AlertingOptions | None = DEFAULT_ALERTING,
    coordinator: Coordinator | None = None,
    shedding: SheddingLimits | None = None,
) -> FastAPI:
    cluster: Coordinator = coordinator or SoloNode()
    telemetry = Telemetry()
    store.series.figures = telemetry
    state = ServerState(
        store=store,
        clock=clock,
        telemetry=telemetry,
        keys=TtlCache(time.monotonic, key_cache_ttl),
        live_hosts=TtlCache(time.monotonic, cache_ttl),
        outbound=(alerting or DEFAULT_ALERTING).outbound,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await store.open()
        await cluster.start()
        stop = asyncio.Event()
        maintenance_task = None
        if maintenance:
            maintenance_task = asyncio.create_task(
                run_maintenance(store, clock, maintenance_interval, stop, coordinator, telemetry),
                name="maintenance",
            )
        queues = asyncio.create_task(
            sample_queues(store.queue_depths, telemetry, stop), name="queue-sampler"
        )
        alerting_task = None
        if alerting is not None:
            alerting_task = asyncio.create_task(
                run_alerting_service(
                    store,
                    clock,
                    alerting,
                    stop,
                    cluster.owns,
                    lambda: cluster.listen(CHECK_REPORTS),
                    telemetry,
                ),
                name="alerting",
            )
        log.info("event=server_started store=%s", type(store).__name__)
        try:
            yield
        finally:
            stop.set()
            if maintenance_task is not None:
                await finish(maintenance_task, SHUTDOWN_GRACE)
            await finish(queues, SHUTDOWN_GRACE)
            if alerting_task is not None:
                await finish(alerting_task, SHUTDOWN_GRACE)
            await cluster.close()
            await store.close()
            process_exited()
            log.info("event=server_stopped")

    middleware = [  # outermost first: each wraps the ones below it
        Middleware(RequestCounter, telemetry=telemetry),
        # a request counts for shedding only once its whole body has arrived
        Middleware(RequestBody, limit=body_limit, timeout=body_timeout),
        Middleware(LoadShedder, limits=shedding or SheddingLimits(), telemetry=telemetry),
        Middleware(
            GZipMiddleware,
            minimum_size=GZIP_MINIMUM,
            compresslevel=GZIP_LEVEL,
            thread_minimum_size=GZIP_IN_THREAD,
        ),
    ]
    app = FastAPI(
        title="sabamon",
        middleware=middleware,
        version=__version__,
        summary="A server answering the Mackerel v0 API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = state
    app.state.coordinator = cluster  # the check report route announces new reports
    app.state.alerting = alerting or DEFAULT_ALERTING  # closes outside the cycle notify
    install_error_handlers(app)
    for module in (tsdb, hosts, services, graphdefs, checks, metadata, org):
        app.include_router(module.router)
    for module in (monitors, alerts, channels, notification_groups, downtimes, monitored_statuses):
        app.include_router(module.router)
    app.include_router(alert_group_settings.router)
    install_dashboard(app)

    store_probe, series_probe = Probe(store.ping), Probe(lambda: store.series.ping())

    @app.get("/healthz", tags=["server"], responses={503: {"description": "Store unreachable"}})
    async def healthz(server: State) -> Response:
        """200 when the store and the series store answer, 503 naming the one that does not."""
        status = "ok"
        if not await store_probe.answers(HEALTH_TIMEOUT):
            status = "store unreachable"
        elif server.store.backend.unwritable_since is not None:
            status = "store cannot write (disk full or failing)"
        elif not await series_probe.answers(HEALTH_TIMEOUT):
            status = f"series store unreachable: {server.store.series.description}"
        body = orjson.dumps({"status": status})
        healthy = status == "ok"
        return Response(body, status_code=200 if healthy else 503, media_type="application/json")

    @app.get("/metrics", tags=["server"], response_class=Response)
    async def prometheus_metrics(server: State) -> Response:
        """The server's figures in Prometheus text format, summed over its workers."""
        figures = server.telemetry
        figures.note_queues(server.store.queue_depths())
        with contextlib.suppress(Exception):  # a store that cannot count leaves it out
            count = await server.store.series.series_count()
            if count is not None:
                figures.series.set(count)
        with contextlib.suppress(Exception):
            figures.pending_deliveries.set(await server.store.pending_deliveries())
        return Response(figures.render(), media_type=CONTENT_TYPE)

    app.openapi = without_422(app)  # type: ignore[method-assign]
    return app
