"""Load shedding: a 503 with Retry-After at once, instead of a request that times out.

When the server falls behind, requests pile up inside it and every one of them gets slow;
the agents' requests time out and are retried, which adds to the pile. The `LoadShedder`
refuses new API requests while the server is overloaded:

- more than `max_in_flight` API requests are being handled, or
- the oldest request still being handled has waited more than `max_wait` seconds
  (a write queued behind the store's writer shows up here first).

Only requests being worked on count: the shedder sits inside `RequestBody`, so a request
enters it once its whole body has arrived (a client that stalls mid-body waits outside,
bounded by the body deadline). A refused request is answered before any route runs, so
nothing of it is applied; a request that was admitted runs to its end. The agent and
`sabamon bench` both wait `Retry-After` seconds before trying again.

The bounds hold per worker process.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from sabamon.server.api.errors import error_response
from sabamon.server.telemetry import Telemetry

log = logging.getLogger(__name__)

SHED_PATH_PREFIX = "/api/"
LOG_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class SheddingLimits:
    max_in_flight: int = 512
    max_wait: float = 2.0
    """Seconds the oldest in-flight request may have been running before new ones are shed."""
    retry_after: float = 5.0
    """Seconds a shed client is told to wait (`Retry-After`, whole seconds, at least 1)."""

    def __post_init__(self) -> None:
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight: must be at least 1, got {self.max_in_flight}")
        if not self.max_wait > 0:
            raise ValueError(f"max_wait: must be above 0 seconds, got {self.max_wait}")
        if not self.retry_after > 0:
            raise ValueError(f"retry_after: must be above 0 seconds, got {self.retry_after}")


class LoadShedder:
    """ASGI middleware answering 503 + Retry-After to API requests while overloaded."""

    def __init__(
        self,
        app: ASGIApp,
        limits: SheddingLimits,
        clock: Callable[[], float] = time.monotonic,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.telemetry = telemetry
        self.clock = clock
        self.in_flight: OrderedDict[object, float] = OrderedDict()  # oldest first
        self.shed_total = 0
        self._shed_since_log = 0
        self._last_log = -math.inf
        self._retry_after = str(max(1, math.ceil(limits.retry_after)))

    def overload(self, now: float) -> str | None:
        """Why a new request would be refused now, or None."""
        if len(self.in_flight) >= self.limits.max_in_flight:
            return "in_flight"
        if self.in_flight:
            oldest = next(iter(self.in_flight.values()))
            if now - oldest > self.limits.max_wait:
                return "wait"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(SHED_PATH_PREFIX):
            await self.app(scope, receive, send)
            return
        now = self.clock()
        reason = self.overload(now)
        if reason is not None:
            self._note_shed(now, reason)
            response = error_response(503, "The server is overloaded; retry after a while.")
            response.headers["Retry-After"] = self._retry_after
            await response(scope, receive, send)
            return
        token = object()
        self.in_flight[token] = now
        try:
            await self.app(scope, receive, send)
        finally:
            del self.in_flight[token]

    def _note_shed(self, now: float, reason: str) -> None:
        """Counts the refusal; logs one line a second at most while shedding."""
        self.shed_total += 1
        if self.telemetry is not None:
            self.telemetry.shed.labels(reason).inc()
        self._shed_since_log += 1
        if now - self._last_log >= LOG_EVERY_SECONDS:
            log.warning(
                "event=shedding reason=%s in_flight=%d shed=%d shed_total=%d",
                reason,
                len(self.in_flight),
                self._shed_since_log,
                self.shed_total,
            )
            self._last_log = now
            self._shed_since_log = 0
