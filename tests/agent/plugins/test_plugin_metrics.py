"""Metric plugins run as real scripts: values, malformed lines, filters, plugin timestamps,
graph definitions from the meta output."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest
from plugin_helpers import command, script
from tests.support.clock import StepClock

from sabamon.agent.metrics.base import MetricGenerator, Value
from sabamon.agent.plugins.config import MetricPluginConfig
from sabamon.agent.plugins.metrics import (
    MetricPluginGenerator,
    collect_graph_defs,
    parse_graph_meta,
)
from sabamon.agent.plugins.runner import PluginRunner

NOW = 1_700_000_000


def generator(
    runner: PluginRunner,
    name: str,
    cmd: str | tuple[str, ...],
    timeout: float = 10,
    **options: object,
) -> MetricPluginGenerator:
    plugin_command = command(cmd, timeout=timeout)
    config = MetricPluginConfig(name=name, command=plugin_command, **options)  # type: ignore[arg-type]
    return MetricPluginGenerator(config, runner, clock=StepClock(NOW))


def test_values_from_a_real_plugin(runner: PluginRunner, caplog: pytest.LogCaptureFixture) -> None:
    plugin: MetricGenerator = generator(runner, "sample", script("metrics.sh"))
    with caplog.at_level(logging.DEBUG, logger="sabamon.agent.plugins"):
        values = plugin.generate(60, threading.Event())
    assert values == [
        Value("custom.sample.load.one", 1.5),
        Value("custom.sample.load.two", 2.0),
        Value("custom.sample.count.a", 3.0),
        Value("custom.skip.me", 5.0),
    ]
    assert plugin.name == "plugin.metrics.sample" and plugin.custom_identifier is None
    dropped = [
        r.getMessage()
        for r in caplog.records
        if "value_dropped" in r.getMessage() and r.levelno == logging.WARNING
    ]
    assert dropped[0] == (
        "event=value_dropped source=plugin.metrics.sample metric=only.two problem=fields"
        " detail='only.two\\t4' suppressed=0"
    )
    assert dropped[1].startswith(
        "event=value_dropped source=plugin.metrics.sample metric=not.a.number problem=value"
        " detail='not.a.number\\tabc\\t"
    )
    assert len(dropped) == 2
    assert any("stderr='a warning on stderr'" in r.getMessage() for r in caplog.records)


def test_include_then_exclude(runner: PluginRunner) -> None:
    plugin = generator(
        runner,
        "sample",
        script("metrics.sh"),
        include_pattern=re.compile(r"^sample\."),
        exclude_pattern=re.compile(r"two$"),
    )
    names = [value.name for value in plugin.generate(60, threading.Event())]
    assert names == ["custom.sample.load.one", "custom.sample.count.a"]


@pytest.mark.parametrize(
    ("offset", "kept"),
    [(0, True), (14 * 60 + 59, True), (-(14 * 60 + 59), True), (15 * 60, False), (-15 * 60, False)],
)
def test_plugin_timestamp_window(runner: PluginRunner, offset: int, kept: bool) -> None:
    plugin = generator(
        runner, "ts", ("echo", f"ts.v\t1\t{NOW + offset}"), use_plugin_timestamp=True
    )
    values = plugin.generate(60, threading.Event())
    assert values == ([Value("custom.ts.v", 1.0, time=NOW + offset)] if kept else [])


def test_epoch_ignored_without_use_plugin_timestamp(runner: PluginRunner) -> None:
    plugin = generator(runner, "ts", ("echo", "ts.v 1 12345"))
    assert plugin.generate(60, threading.Event()) == [Value("custom.ts.v", 1.0)]
    with_ts = generator(runner, "ts", ("echo", "ts.v 1 notanumber"), use_plugin_timestamp=True)
    assert with_ts.generate(60, threading.Event()) == []


def test_failing_plugins_yield_what_they_printed(runner: PluginRunner) -> None:
    crash = generator(runner, "crash", (script("crash.py"),))
    assert crash.generate(60, threading.Event()) == [Value("custom.crash.before", 1.0)]
    missing = generator(runner, "missing", ("/nonexistent/plugin",))
    assert missing.generate(60, threading.Event()) == []


def test_graph_defs(runner: PluginRunner, caplog: pytest.LogCaptureFixture) -> None:
    plugins = [
        generator(runner, "sample", script("metrics.sh")),
        generator(runner, "broken", script("meta_invalid.sh")),
        generator(runner, "plain", script("no_meta.sh")),
        generator(runner, "missing", ("/nonexistent/plugin",)),
    ]
    with caplog.at_level(logging.DEBUG, logger="sabamon.agent.plugins"):
        defs = collect_graph_defs(plugins)
    assert defs == [
        {
            "name": "custom.sample.load",
            "displayName": "Sample load",
            "unit": "percentage",
            "metrics": [
                {"name": "custom.sample.load.one", "displayName": "One", "isStacked": True},
                {"name": "custom.sample.load.two", "displayName": "Two", "isStacked": False},
            ],
        },
        {
            "name": "custom.sample.count",
            "displayName": "Count",
            "unit": "float",
            "metrics": [{"name": "custom.sample.count.*", "displayName": "%1", "isStacked": False}],
        },
    ]
    events = {
        (record.levelname, record.getMessage().split(" error=")[0]) for record in caplog.records
    }
    assert ("ERROR", "event=graph_meta_invalid_json plugin=plugin.metrics.broken") in events
    assert ("DEBUG", "event=graph_meta_missing plugin=plugin.metrics.plain") in events
    assert ("ERROR", "event=graph_meta_run_failed plugin=plugin.metrics.missing") in events


@pytest.mark.parametrize(
    ("stdout", "problem"),
    [
        ('# mackerel-agent-plugin version=2\n{"graphs": {}}', "event=graph_meta_bad_version"),
        (
            '#mackerel-agent-plugin\n{"graphs": {"g": {"unit": "parsecs"}}}',
            "event=graph_def_invalid",
        ),
        (
            '# mackerel-agent-plugin\n{"graphs": {"g": {"metrics": [{}]}}}',
            "event=graph_def_invalid",
        ),
        ('# mackerel-agent-plugin\n{"graphs": []}', "event=graph_meta_invalid_json"),
        ('# mackerel-agent-plugin\n{"nographs": 1}', "event=graph_meta_invalid_json"),
    ],
)
def test_bad_graph_meta(stdout: str, problem: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        assert parse_graph_meta("plugin.metrics.p", stdout) == []
    assert f"{problem} plugin=plugin.metrics.p" in caplog.text


def test_graph_defs_run_in_parallel(runner: PluginRunner) -> None:
    slow_meta = "sleep 0.3; echo '# mackerel-agent-plugin'; echo '{\"graphs\": {}}'"
    plugins = [generator(runner, f"p{i}", slow_meta) for i in range(8)]
    started = time.monotonic()
    assert collect_graph_defs(plugins) == []
    assert time.monotonic() - started < 0.3 * 4


def test_what_the_api_would_refuse_is_dropped_with_one_warning_an_hour(
    runner: PluginRunner, caplog: pytest.LogCaptureFixture
) -> None:
    """`storm.acker.verify:__ack` (a name the API refuses) and `ses.bounces int 0` (not a
    number) are dropped before spooling; the good lines beside them are kept; each problem
    is logged once per plugin per hour, then with the count of what was dropped meanwhile."""
    lines = "storm.acker.verify:__ack\t12\t1700000000\nses.bounces\tint\t0\ngood.one\t1\t0\n"
    clock = StepClock(NOW)
    config = MetricPluginConfig(name="storm", command=command(("printf", lines)))
    plugin = MetricPluginGenerator(config, runner, clock=clock)
    with caplog.at_level(logging.WARNING):
        for minute in range(61):
            clock.time = NOW + 60 * minute
            assert plugin.generate(60, threading.Event()) == [Value("custom.good.one", 1.0)]
    warnings = [r.getMessage() for r in caplog.records if "value_dropped" in r.getMessage()]
    assert [w.split(" detail=")[0] for w in warnings] == [
        "event=value_dropped source=plugin.metrics.storm metric=storm.acker.verify:__ack"
        " problem=name",
        "event=value_dropped source=plugin.metrics.storm metric=ses.bounces problem=value",
        "event=value_dropped source=plugin.metrics.storm metric=storm.acker.verify:__ack"
        " problem=name",
        "event=value_dropped source=plugin.metrics.storm metric=ses.bounces problem=value",
    ]
    assert warnings[2].endswith("suppressed=59")


def test_a_flooding_plugin_costs_only_its_values_past_the_cap(
    runner: PluginRunner, caplog: pytest.LogCaptureFixture
) -> None:
    # a flood without end runs until its timeout, one second here
    plugin = generator(runner, "flood", "yes 'flood.x\t1\t1'", timeout=1, max_values=500)
    with caplog.at_level(logging.WARNING):
        values = plugin.generate(60, threading.Event())
    assert len(values) == 500 and values[0] == Value("custom.flood.x", 1.0)
    assert any("problem=max_values" in r.getMessage() for r in caplog.records)
