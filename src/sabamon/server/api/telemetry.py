"""The server's own figures at /metrics, in Prometheus text format.

Counting is a dict increment per request, cheap enough for the ingest path; the text is
built only when /metrics is scraped.
"""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REFUSAL_REASONS = ("hostId", "name", "point", "time", "value")
"""Every reason a point is refused for, shown with zeros before the first refusal."""
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Histogram:
    def __init__(self, buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.total += seconds

    def render(self, name: str) -> list[str]:
        lines, running = [], 0
        for bound, count in zip(self.buckets, self.counts, strict=False):
            running += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {running}')
        running += self.counts[-1]
        lines += [f'{name}_bucket{{le="+Inf"}} {running}', f"{name}_sum {self.total}"]
        lines.append(f"{name}_count {running}")
        return lines


class Telemetry:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.points: Counter[str] = Counter()  # accepted | dropped_out_of_window
        self.points_refused: Counter[str] = Counter()  # by the faulty field
        self.rejected_batches = 0
        self.write_latency = Histogram()

    def render(self) -> str:
        lines = [
            "# HELP sabamon_http_requests_total Requests answered, by route and status.",
            "# TYPE sabamon_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.requests.items()):
            labels = f'method="{method}",route="{_escape(route)}",status="{status}"'
            lines.append(f"sabamon_http_requests_total{{{labels}}} {count}")
        lines += [
            "# HELP sabamon_points_total Posted metric points, by outcome.",
            "# TYPE sabamon_points_total counter",
        ]
        for outcome in ("accepted", "dropped_out_of_window"):
            lines.append(f'sabamon_points_total{{outcome="{outcome}"}} {self.points[outcome]}')
        lines += [
            "# HELP sabamon_points_refused_total Posted points refused (the rest of their"
            " post stored), by reason: the faulty field.",
            "# TYPE sabamon_points_refused_total counter",
        ]
        for reason in sorted({*REFUSAL_REASONS, *self.points_refused}):
            count = self.points_refused[reason]
            lines.append(f'sabamon_points_refused_total{{reason="{reason}"}} {count}')
        lines += [
            "# HELP sabamon_batches_rejected_total Metric posts refused whole with a 400.",
            "# TYPE sabamon_batches_rejected_total counter",
            f"sabamon_batches_rejected_total {self.rejected_batches}",
            "# HELP sabamon_write_seconds Time to commit a batch of points.",
            "# TYPE sabamon_write_seconds histogram",
            *self.write_latency.render("sabamon_write_seconds"),
        ]
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class RequestCounter:
    """ASGI middleware counting every answered request by method, route template and status."""

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

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.telemetry.requests[(scope["method"], template, status)] += 1
