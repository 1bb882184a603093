"""Load averages from /proc/loadavg: `loadavg1`, `loadavg5`, `loadavg15`."""

from __future__ import annotations

import threading
from pathlib import Path

from sabamon.agent.metrics.badlines import skip_line
from sabamon.agent.metrics.base import Value
from sabamon.agent.metrics.procfs import read_proc

_NAMES = ("loadavg1", "loadavg5", "loadavg15")


def parse_loadavg(text: str) -> list[Value]:
    """The first three fields of /proc/loadavg (what getloadavg(3) returns)."""
    fields = text.split()
    if len(fields) < 3:
        raise ValueError(f"/proc/loadavg: expected 3 load averages, got {text.strip()!r}")
    values = []
    for name, field in zip(_NAMES, fields, strict=False):
        try:
            values.append(Value(name, float(field)))
        except ValueError:
            skip_line("/proc/loadavg", text.strip(), f"{name} is not a number")
    return values


class LoadavgCollector:
    """Emits `loadavg1`, `loadavg5`, `loadavg15`."""

    name = "loadavg"
    custom_identifier: str | None = None

    def __init__(self, proc_root: Path = Path("/proc")) -> None:
        self._path = proc_root / "loadavg"

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        return parse_loadavg(read_proc(self._path))
