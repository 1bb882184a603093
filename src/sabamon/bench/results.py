"""A step's figures, computed from the shards' records."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sabamon.bench.shard import CHECKS, NETWORK_ERROR, TIMEOUT, Record

ERROR_CLASSES = ("network", "timeout", "400", "413", "429", "500", "503")
"""The error classes a report always carries, so runs compare key by key."""


@dataclass
class ProcessFigures:
    """CPU and memory of a group of processes over a step."""

    processes: int
    cpu_seconds: float
    cpu_percent: float
    """Of one core, averaged over the step: 150 means one and a half cores busy."""
    rss_max_mb: float | None = None


@dataclass
class StepResult:
    hosts: int
    metrics: int
    duration: float
    time_scale: float
    warmup: float
    """Seconds at the start left out of the latency, error and rate figures."""
    requests: int
    ok: int
    errors: dict[str, int]
    """Failed requests by class: every one of ERROR_CLASSES (zero when none), plus any
    other status seen."""
    unsent: int
    """Host-minutes still waiting to be posted when the step ended."""
    check_requests: int
    throughput: float
    """Answered requests a second."""
    points_per_second: float
    latency: dict[str, float]
    """Seconds: p50, p95, p99, max."""
    error_rate: float
    carried: bool
    server: ProcessFigures | None
    generator: ProcessFigures
    database: ProcessFigures | None = None
    """The local PostgreSQL, when the server writes to one."""
    timeline: list[dict[str, float]] = field(default_factory=list)
    """Per second of the step: requests, errors, p50 and p99 latency."""

    @property
    def shed(self) -> int:
        return self.errors.get("503", 0)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def status_label(status: int) -> str:
    if status == TIMEOUT:
        return "timeout"
    if status == NETWORK_ERROR:
        return "network"
    return str(status)


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency_figures(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1] if ordered else 0.0,
    }


def timeline(records: list[Record], duration: float) -> list[dict[str, float]]:
    seconds: list[list[Record]] = [[] for _ in range(max(1, math.ceil(duration)))]
    for record in records:
        second = min(len(seconds) - 1, max(0, int(record[0])))
        seconds[second].append(record)
    rows = []
    for second, bucket in enumerate(seconds):
        ordered = sorted(record[1] for record in bucket)
        rows.append(
            {
                "second": float(second),
                "requests": float(len(bucket)),
                "errors": float(sum(1 for record in bucket if not 200 <= record[2] < 300)),
                "p50": percentile(ordered, 0.5),
                "p99": percentile(ordered, 0.99),
            }
        )
    return rows


@dataclass(frozen=True)
class Thresholds:
    max_p99: float = 1.0
    max_error_rate: float = 0.001


def summarise(
    records: list[Record],
    *,
    hosts: int,
    metrics: int,
    duration: float,
    time_scale: float,
    unsent: int,
    acknowledged_minutes: int,
    thresholds: Thresholds,
    server: ProcessFigures | None,
    generator: ProcessFigures,
    database: ProcessFigures | None = None,
    warmup: float = 0.0,
) -> StepResult:
    every_record, records = records, [record for record in records if record[0] >= warmup]
    measured = duration - warmup
    statuses = Counter(status_label(record[2]) for record in records)
    ok = sum(count for label, count in statuses.items() if label.startswith("2"))
    errors = dict.fromkeys(ERROR_CLASSES, 0)
    errors.update(
        (label, count) for label, count in sorted(statuses.items()) if not label.startswith("2")
    )
    failed = sum(errors.values())
    latency = latency_figures([record[1] for record in records])
    error_rate = (failed + unsent) / max(1, len(records) + unsent)
    return StepResult(
        hosts=hosts,
        metrics=metrics,
        duration=duration,
        time_scale=time_scale,
        warmup=warmup,
        requests=len(records),
        ok=ok,
        errors=errors,
        unsent=unsent,
        check_requests=sum(1 for record in records if record[3] == CHECKS),
        throughput=len(records) / measured,
        points_per_second=acknowledged_minutes * metrics / duration,
        latency=latency,
        error_rate=error_rate,
        carried=bool(records)
        and latency["p99"] < thresholds.max_p99
        and error_rate <= thresholds.max_error_rate,
        server=server,
        generator=generator,
        database=database,
        timeline=timeline(every_record, duration),
    )
