"""The server's own figures at /metrics, in Prometheus text format, by prometheus_client.

Each app owns one `Telemetry` with its own registry, so apps built in one process (tests)
count apart. `sabamon server` names a folder made fresh for each run in
`PROMETHEUS_MULTIPROC_DIR` before its workers start; prometheus_client then keeps each
worker's values in files there (its multiprocess mode), a scrape of any worker sums every
worker's, and a worker that exits is marked dead so its live gauges leave the sum.

The figures (all names start with `sabamon_`):

| name | type | labels |
|---|---|---|
| http_requests_total | counter | method, route (the template, not the path), status |
| http_request_duration_seconds | histogram | method, route |
| http_requests_in_flight | gauge | (the queue the load shedder measures) |
| http_requests_shed_total | counter | reason: in_flight or wait |
| points_total | counter | outcome: accepted or dropped_out_of_window |
| points_refused_total | counter | reason: the faulty field |
| batches_rejected_total | counter | (metric posts refused whole with a 400) |
| write_seconds | histogram | (time to commit a batch of points) |
| maintenance_seconds | histogram | job: compact (rollups) or expire |
| series | gauge | (series stored, read when scraped; absent where the store cannot tell) |
| queue_depth | gauge | queue: point_writes, store_writes or pool_waits (below) |
| seal_duration_seconds | histogram | (one sealing transaction: up to 500 series of one window) |
| sealed_points_total | counter | (points moved from the head into chunks) |
| sealed_chunks_total | counter | (chunks written by sealing) |
| notification_deliveries_pending | gauge | (queued or being sent, every organisation) |
| notifications_total | counter | channel_type, outcome: sent, retry or failed |

Queues: `point_writes` holds posted batches that no flusher has taken yet (`coalesce.py`),
`store_writes` the transactions waiting for SQLite's writer thread, `pool_waits` the reads
and writes waiting for a connection of PostgreSQL's pool.
Their depths are each worker's own, summed over the live workers: every worker samples its
queues each `QUEUE_SAMPLE_INTERVAL` seconds (and the scraped one at the scrape), so a
scrape sees values at most that old. Figures read from the database (series, pending
deliveries) are the same for every worker: the most recent reading is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's own variable: set, every process writes its values under it."""
REFUSAL_REASONS = ("hostId", "name", "point", "time", "value")
"""Every reason a point is refused for, shown with zeros before the first refusal."""
POINT_OUTCOMES = ("accepted", "dropped_out_of_window")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
MAINTENANCE_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)
SEAL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUEUE_SAMPLE_INTERVAL = 1.0
"""Seconds between two samples of a worker's queue depths."""

disable_created_metrics()  # `_created` samples double the text and nobody graphs them


class Telemetry:
    """The counters, histograms and gauges of one app, and their exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        metric: dict[str, Any] = {"registry": self.registry, "namespace": "sabamon"}
        self.requests = Counter(
            "http_requests", "Requests answered, by route and status.",
            ["method", "route", "status"], **metric,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "http_request_duration_seconds", "Time to answer a request, by route.",
            ["method", "route"], buckets=LATENCY_BUCKETS, **metric,
        )  # fmt: skip
        self.in_flight = Gauge(
            "http_requests_in_flight", "Requests being answered now.",
            multiprocess_mode="livesum", **metric,
        )  # fmt: skip
        self.shed = Counter(
            "http_requests_shed", "API requests refused with a 503 while overloaded, by reason.",
            ["reason"], **metric,
        )  # fmt: skip
        self.points = Counter("points", "Posted metric points, by outcome.", ["outcome"], **metric)
        self.points_refused = Counter(
            "points_refused",
            "Posted points refused (the rest of their post stored), by reason: the faulty field.",
            ["reason"], **metric,
        )  # fmt: skip
        self.rejected_batches = Counter(
            "batches_rejected", "Metric posts refused whole with a 400.", **metric
        )
        self.write_latency = Histogram(
            "write_seconds", "Time to commit a batch of points.",
            buckets=LATENCY_BUCKETS, **metric,
        )  # fmt: skip
        self.maintenance_seconds = Histogram(
            "maintenance_seconds", "Time a maintenance pass took, by job.",
            ["job"], buckets=MAINTENANCE_BUCKETS, **metric,
        )  # fmt: skip
        self.series = Gauge(
            "series", "Series stored (read from the store when scraped).",
            multiprocess_mode="livemostrecent", **metric,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "queue_depth", "Work waiting in the server's queues, by queue.",
            ["queue"], multiprocess_mode="livesum", **metric,
        )  # fmt: skip
        self.seal_seconds = Histogram(
            "seal_duration_seconds", "Time a sealing transaction took.",
            buckets=SEAL_BUCKETS, **metric,
        )  # fmt: skip
        self.sealed_points = Counter(
            "sealed_points", "Points moved from the head into sealed chunks.", **metric
        )
        self.sealed_chunks = Counter("sealed_chunks", "Chunks written by sealing.", **metric)
        self.pending_deliveries = Gauge(
            "notification_deliveries_pending",
            "Notification deliveries queued or being sent (read from the store when scraped).",
            multiprocess_mode="livemostrecent", **metric,
        )  # fmt: skip
        self.notifications = Counter(
            "notifications", "Notification attempts, by channel type and outcome.",
            ["channel_type", "outcome"], **metric,
        )  # fmt: skip
        for outcome in POINT_OUTCOMES:
            self.points.labels(outcome)
        for reason in REFUSAL_REASONS:
            self.points_refused.labels(reason)

    def sealed(self, seconds: float, points: int, chunks: int) -> None:
        """`store.figures.StoreFigures`: one sealing transaction."""
        self.seal_seconds.observe(seconds)
        self.sealed_points.inc(points)
        self.sealed_chunks.inc(chunks)

    def note_queues(self, depths: dict[str, int]) -> None:
        """This worker's queue depths now (`Store.queue_depths`)."""
        for queue, depth in depths.items():
            self.queue_depth.labels(queue).set(depth)

    def render(self) -> bytes:
        """The exposition text: every worker's figures summed in multiprocess mode."""
        directory = multiprocess_directory()
        if directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        return generate_latest(registry)


CONTENT_TYPE = CONTENT_TYPE_LATEST


async def sample_queues(
    depths: Callable[[], dict[str, int]],
    telemetry: Telemetry,
    stop: asyncio.Event,
    interval: float = QUEUE_SAMPLE_INTERVAL,
) -> None:
    """Notes this worker's queue depths every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        telemetry.note_queues(depths())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


def multiprocess_directory() -> str | None:
    """The folder of every worker's values, or None when this process counts alone.

    Values go to files only when the variable was set before prometheus_client was
    imported; otherwise this process's own registry is the truth."""
    directory = os.environ.get(MULTIPROCESS_DIR_ENV)
    return directory if directory and values.ValueClass is not values.MutexValue else None


def follow_multiprocess_setting() -> None:
    """Picks prometheus_client's value storage again from the environment: in files under
    `PROMETHEUS_MULTIPROC_DIR` once `sabamon server` has set it. prometheus_client picks it
    when imported, which the server's own modules do before its flags are read; the pick
    holds for every figure made after it (`values.get_value_class`), and this runs before
    the first (`Telemetry`), in the one process that serves and was started without it."""
    if os.environ.get(MULTIPROCESS_DIR_ENV) and values.ValueClass is values.MutexValue:
        values.ValueClass = values.get_value_class()


def process_exited(pid: int | None = None) -> None:
    """Drops the live gauges of a worker that is leaving (multiprocess mode only)."""
    directory = multiprocess_directory()
    if directory is not None:
        mark_process_dead(pid or os.getpid(), directory)


class RequestCounter:
    """ASGI middleware counting and timing every answered request by method, route
    template and status, and keeping the in-flight gauge."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        telemetry = self.telemetry
        started = time.perf_counter()
        telemetry.in_flight.inc()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            telemetry.in_flight.dec()
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            telemetry.requests.labels(method, template, str(status)).inc()
            telemetry.request_seconds.labels(method, template).observe(
                time.perf_counter() - started
            )
