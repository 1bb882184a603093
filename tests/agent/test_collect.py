"""The gatherer with real plugin commands: where plugins run and the slow-generator warning;
the ticker's bounded wait for the collections under way at the exit."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from tests.support.waiting import wait_until

from sabamon.agent.collect import Gatherer, Ticker
from sabamon.agent.loop import LoopTimings
from sabamon.agent.metrics.base import MetricGenerator
from sabamon.agent.plugins.config import MetricPluginConfig, PluginCommand
from sabamon.agent.plugins.metrics import MetricPluginGenerator
from sabamon.agent.plugins.runner import PluginRunner
from sabamon.agent.spool import Spool

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


def test_the_exit_waits_for_a_hung_first_collection_only_as_long_as_its_bound(
    tmp_path: Path,
) -> None:
    """The first collection runs a plugin that sleeps on: after the stop, the ticker's close
    gives up after its 0.3 s and says so; once the plugin has ended, a close succeeds."""
    started = tmp_path / "started"
    runner = PluginRunner(kill_grace_seconds=0.0)
    command = PluginCommand(key="plugin.metrics.hung", command=f"touch {started}; sleep 30")
    hung = MetricPluginGenerator(MetricPluginConfig(name="hung", command=command), runner)
    stop = threading.Event()
    gathering = Gatherer([hung], {None: "host1"}.get, TIMINGS, stop)
    with Spool(tmp_path / "spool") as spool:
        ticker = Ticker(gathering, spool, TIMINGS, stop)
        threading.Thread(target=ticker.run, daemon=True).start()
        wait_until(started.exists)
        stop.set()
        begun = time.monotonic()
        assert not ticker.close(0.3)
        assert 0.3 <= time.monotonic() - begun < 1.0
        runner.close()  # ends the plugin, as the agent does at its exit
        assert ticker.close(5)
        assert spool.count() == 0  # a collection ended by the stop is not spooled
    gathering.close()
