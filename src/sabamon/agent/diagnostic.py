"""`diagnostic = true`: the agent's own footprint as custom metrics, with their graph defs."""

from __future__ import annotations

import threading

import psutil

from sabamon.agent.metrics.base import Value
from sabamon.agent.spool import Spool

GRAPH_DEFS = [
    {
        "name": "custom.agent.memory",
        "displayName": "Agent memory",
        "unit": "bytes",
        "metrics": [{"name": "custom.agent.memory.rss", "displayName": "RSS", "isStacked": False}],
    },
    {
        "name": "custom.agent.cpu",
        "displayName": "Agent CPU time",
        "unit": "seconds",
        "metrics": [
            {"name": "custom.agent.cpu.seconds", "displayName": "CPU seconds", "isStacked": False}
        ],
    },
    {
        "name": "custom.agent.spool",
        "displayName": "Agent spool",
        "unit": "integer",
        "metrics": [
            {"name": "custom.agent.spool.batches", "displayName": "batches", "isStacked": False}
        ],
    },
]


class DiagnosticGenerator:
    """RSS in bytes, user+system CPU seconds since start, batches waiting in the spool."""

    name = "diagnostic"
    custom_identifier = None

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self._process = psutil.Process()

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        times = self._process.cpu_times()
        return [
            Value("custom.agent.memory.rss", float(self._process.memory_info().rss)),
            Value("custom.agent.cpu.seconds", times.user + times.system),
            Value("custom.agent.spool.batches", float(self.spool.count())),
        ]
