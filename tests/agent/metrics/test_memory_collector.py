import threading
from collections.abc import Callable

import pytest

from sabamon.agent.metrics.memory import MemoryCollector, memory_values, parse_meminfo


def test_with_mem_available(sample: Callable[[str], str]) -> None:
    values = {value.name: value.value for value in memory_values(parse_meminfo(sample("meminfo")))}
    assert values == {
        "memory.total": 24684084 * 1024.0,
        "memory.swap_total": 0.0,
        "memory.swap_cached": 0.0,
        "memory.swap_free": 0.0,
        "memory.mem_available": 24033164 * 1024.0,
        "memory.used": (24684084 - 24033164) * 1024.0,
    }


def test_without_mem_available(sample: Callable[[str], str]) -> None:
    meminfo = parse_meminfo(sample("meminfo.no_available"))
    values = {value.name: value.value for value in memory_values(meminfo)}
    free, buffers, cached = meminfo["MemFree"], meminfo["Buffers"], meminfo["Cached"]
    assert "memory.mem_available" not in values
    assert values["memory.free"] == free * 1024
    assert values["memory.buffers"] == buffers * 1024
    assert values["memory.cached"] == cached * 1024
    assert values["memory.used"] == (24684084 - free - buffers - cached) * 1024


def test_missing_keys_are_named() -> None:
    with pytest.raises(ValueError, match="MemTotal"):
        memory_values(parse_meminfo("MemFree: 1 kB\n"))


def test_live_memory() -> None:
    values = {v.name: v.value for v in MemoryCollector().generate(0.0, threading.Event())}
    assert 0 < values["memory.used"] < values["memory.total"]
    assert values["memory.total"] > 64 * 1024 * 1024
