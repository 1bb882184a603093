"""The gatherer with real plugin commands: where plugins run and the slow-generator warning."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from sabamon.agent.collect import Gatherer
from sabamon.agent.loop import LoopTimings
from sabamon.agent.metrics.base import MetricGenerator
from sabamon.agent.plugins.config import MetricPluginConfig, PluginCommand
from sabamon.agent.plugins.metrics import MetricPluginGenerator
from sabamon.agent.plugins.runner import PluginRunner

TIMINGS = LoopTimings(delta_interval=0.0, slow_collection_warning=1.5)
TICK = 1_700_000_000


def plugin(name: str, shell: str, timeout: float) -> MetricPluginGenerator:
    command = PluginCommand(key=f"plugin.metrics.{name}", command=shell, timeout_seconds=timeout)
    runner = PluginRunner(kill_grace_seconds=0.0)
    return MetricPluginGenerator(MetricPluginConfig(name=name, command=command), runner)


def gatherer(generators: list[MetricGenerator]) -> Gatherer:
    gathering = Gatherer(generators, {None: "host1"}.get, TIMINGS, threading.Event())
    gathering.gather(TICK)  # the first collection runs everything on threads of its own
    return gathering


def names(values: list[dict[str, object]]) -> list[object]:
    return [value["name"] for value in values]


def plugin_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("plugin")]


def test_a_lone_plugin_that_cannot_outlast_the_warning_runs_on_the_collecting_thread() -> None:
    """No hand-off to a pool thread: the gather runs the command itself (its longest run,
    0.1 s and 1 s after KILL, ends before the 1.5 s warning)."""
    gathering = gatherer([plugin("one", "echo one 1 0", timeout=0.1)])
    try:
        assert names(gathering.gather(TICK + 60)) == ["custom.one"]
        assert plugin_threads() == []
    finally:
        gathering.close()


def test_a_lone_plugin_that_may_outlast_the_warning_is_logged_while_it_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gathering = gatherer([plugin("slow", "sleep 2; echo slow 1 0", timeout=60)])
    caplog.clear()  # the first collection's own warning
    try:
        with caplog.at_level(logging.WARNING):
            values = gathering.gather(TICK + 60)
        ended = time.time()
    finally:
        gathering.close()
    assert names(values) == ["custom.slow"]
    slow = [r for r in caplog.records if "event=generator_slow" in r.getMessage()]
    assert [r.getMessage() for r in slow] == [
        "event=generator_slow generator=plugin.metrics.slow seconds=2"
    ]
    assert slow[0].created < ended - 0.3  # logged while the plugin ran, not after


def test_several_plugins_run_in_parallel() -> None:
    generators: list[MetricGenerator] = [
        plugin(name, f"sleep 0.4; echo {name} 1 0", timeout=5) for name in ("a", "b", "c")
    ]
    gathering = gatherer(generators)
    try:
        started = time.monotonic()
        assert names(gathering.gather(TICK + 60)) == ["custom.a", "custom.b", "custom.c"]
        assert time.monotonic() - started < 0.4 * 2
    finally:
        gathering.close()
