"""A fleet run as a text table and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from sabamon.bench.fleet import FleetReport
from sabamon.bench.results import ProcessFigures, StepResult

COLUMNS = (
    ("hosts", 8),
    ("req/s", 8),
    ("points/s", 10),
    ("p50 ms", 8),
    ("p95 ms", 8),
    ("p99 ms", 8),
    ("errors", 8),
    ("503", 6),
    ("server cpu%", 12),
    ("server MB", 10),
    ("db cpu%", 8),
    ("bench cpu%", 11),
    ("carried", 8),
)


def cpu(figures: ProcessFigures | None) -> str:
    return "-" if figures is None else f"{figures.cpu_percent:.0f}"


def row(step: StepResult) -> list[str]:
    server = step.server
    return [
        str(step.hosts),
        f"{step.throughput:.1f}",
        f"{step.points_per_second:.0f}",
        f"{step.latency['p50'] * 1000:.1f}",
        f"{step.latency['p95'] * 1000:.1f}",
        f"{step.latency['p99'] * 1000:.1f}",
        str(sum(step.errors.values()) + step.unsent),
        str(step.shed),
        cpu(server),
        "-" if server is None or server.rss_max_mb is None else f"{server.rss_max_mb:.0f}",
        cpu(step.database),
        cpu(step.generator),
        "yes" if step.carried else "no",
    ]


def table(report: FleetReport) -> str:
    options = report.options
    lines = [
        f"fleet: {options.metrics} metrics a host, every {options.interval:g} s, "
        f"time scale {options.time_scale:g} ({options.duration:g} s a step, "
        f"first {options.warmup:g} s left out), "
        f"{options.processes} generator processes; "
        f"registration {report.registration_seconds:.1f} s",
        "".join(f"{name:>{width}}" for name, width in COLUMNS),
    ]
    for step in report.steps:
        lines.append(
            "".join(f"{cell:>{w}}" for cell, (_, w) in zip(row(step), COLUMNS, strict=True))
        )
    for step in report.steps:
        if step.errors or step.unsent:
            detail = ", ".join(f"{label}: {count}" for label, count in step.errors.items())
            unsent = f", unsent host-minutes: {step.unsent}" if step.unsent else ""
            lines.append(f"errors at {step.hosts} hosts: {detail}{unsent}")
    limits = options.thresholds
    carried = report.largest_carried
    lines.append(
        f"largest fleet carried (p99 < {limits.max_p99:g} s, errors ≤ "
        f"{limits.max_error_rate:.1%}): {carried if carried is not None else 'none'} hosts"
        + (f" × time scale {options.time_scale:g}" if options.time_scale != 1 else "")
    )
    return "\n".join(lines)


def write_json(report: FleetReport, path: Path) -> None:
    path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
