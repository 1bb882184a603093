"""Memory in bytes from /proc/meminfo.

Emits `memory.total`, `memory.used`, `memory.swap_total`, `memory.swap_cached`,
`memory.swap_free`, and `memory.mem_available` when the kernel reports MemAvailable, else
`memory.buffers`, `memory.cached`, `memory.free`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sabamon.agent.metrics.base import Value
from sabamon.agent.metrics.procfs import read_proc

_ALWAYS = (
    ("memory.total", "MemTotal"),
    ("memory.swap_total", "SwapTotal"),
    ("memory.swap_cached", "SwapCached"),
    ("memory.swap_free", "SwapFree"),
)
_WITHOUT_AVAILABLE = (
    ("memory.buffers", "Buffers"),
    ("memory.cached", "Cached"),
    ("memory.free", "MemFree"),
)


def parse_meminfo(text: str) -> dict[str, int]:
    """`{"MemTotal": 3916792, ...}`: each line's number as written (kB for most keys)."""
    entries: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            entries[key.strip()] = int(fields[0])
    return entries


def memory_values(meminfo: dict[str, int]) -> list[Value]:
    """Bytes (kB × 1024); `used = total - MemAvailable`, or without MemAvailable
    `total - free - buffers - cached`."""
    missing = [key for _, key in _ALWAYS + _WITHOUT_AVAILABLE if key not in meminfo]
    if missing:
        raise ValueError(f"/proc/meminfo: missing {', '.join(missing)}")
    kib = {key: value * 1024 for key, value in meminfo.items()}
    values = [Value(name, float(kib[key])) for name, key in _ALWAYS]
    total = kib["MemTotal"]
    if "MemAvailable" in kib:
        values.append(Value("memory.mem_available", float(kib["MemAvailable"])))
        used = total - kib["MemAvailable"]
    else:
        values += [Value(name, float(kib[key])) for name, key in _WITHOUT_AVAILABLE]
        used = total - kib["MemFree"] - kib["Buffers"] - kib["Cached"]
    values.append(Value("memory.used", float(used)))
    return values


class MemoryCollector:
    """Emits the `memory.*` values above."""

    name = "memory"
    custom_identifier: str | None = None

    def __init__(self, proc_root: Path = Path("/proc")) -> None:
        self._path = proc_root / "meminfo"

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        return memory_values(parse_meminfo(read_proc(self._path)))
