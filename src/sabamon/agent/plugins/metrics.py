"""Metric plugins: `name<TAB>value<TAB>epoch` lines become `custom.<name>` values, and the
plugin's `MACKEREL_AGENT_PLUGIN_META=1` output becomes graph definitions."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sabamon.agent.clock import SYSTEM_CLOCK, Clock
from sabamon.agent.metrics.base import Value
from sabamon.agent.metrics.names import name_problem
from sabamon.agent.plugins.config import MetricPluginConfig
from sabamon.agent.plugins.runner import PluginRunner
from sabamon.agent.problems import ProblemLog

log = logging.getLogger(__name__)

CUSTOM_PREFIX = "custom."
META_ENV = "MACKEREL_AGENT_PLUGIN_META"
PLUGIN_TIMESTAMP_WINDOW_SECONDS = 15 * 60
GRAPH_UNITS = frozenset(
    {
        "float",
        "integer",
        "percentage",
        "seconds",
        "milliseconds",
        "bytes",
        "bytes/sec",
        "bits/sec",
        "iops",
    }
)
_META_HEADER = re.compile(r"^#\s*mackerel-agent-plugin\b(.*)$")


class MetricPluginGenerator:
    """A metric plugin as a `MetricGenerator`: one run per tick, its lines parsed to values."""

    def __init__(
        self,
        config: MetricPluginConfig,
        runner: PluginRunner,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.config = config
        self._runner = runner
        self._clock = clock
        self.problems = ProblemLog(clock.now)

    @property
    def name(self) -> str:
        return f"plugin.metrics.{self.config.name}"

    @property
    def custom_identifier(self) -> str | None:
        return self.config.custom_identifier

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        result = self._runner.run(self.config.command, {META_ENV: ""})
        if result.stderr:
            log.info("event=plugin_stderr plugin=%s stderr=%r", self.name, result.stderr.strip())
        if result.error:
            log.warning("event=metric_plugin_failed plugin=%s error=%r", self.name, result.error)
        return self.parse(result.stdout)

    def longest_run(self) -> float:
        """Seconds one `generate` lasts at most (the runner's bound on one run)."""
        return self._runner.longest_run(self.config.command)

    def graph_defs(self) -> list[dict[str, Any]]:
        """Runs the plugin with `MACKEREL_AGENT_PLUGIN_META=1` and parses its graph meta."""
        result = self._runner.run(self.config.command, {META_ENV: "1"})
        if result.error or result.exit_code != 0:
            reason = result.error or f"exit code {result.exit_code}"
            log.error("event=graph_meta_run_failed plugin=%s error=%r", self.name, reason)
            return []
        return parse_graph_meta(self.name, result.stdout)

    def parse(self, stdout: str) -> list[Value]:
        """Values from the plugin's output. A line the API would refuse (a malformed line, a
        name outside [a-zA-Z0-9._-], a value that is not a finite number, a timestamp out of
        range) is dropped with a rate-limited WARNING naming the plugin and the metric; past
        `max_values` values the rest of the run is dropped the same way."""
        now = self._clock.now()
        values: list[Value] = []
        for line in stdout.splitlines():
            value = self._parse_line(line, now)
            if value is None:
                continue
            if len(values) == self.config.max_values:
                self.problems.warn(
                    self.name,
                    "max_values",
                    value.name,
                    f"more than max_values={self.config.max_values} values in one run: "
                    "the rest of the run was dropped",
                )
                break
            values.append(value)
        return values

    def _drop(self, problem: str, metric: str, line: str) -> None:
        self.problems.warn(self.name, problem, metric, line[:200])

    def _parse_line(self, line: str, now: float) -> Value | None:
        fields = line.split()
        if not fields:
            return None
        if len(fields) < 3:
            self._drop("fields", fields[0], line)
            return None
        key, raw_value, raw_epoch = fields[:3]
        include, exclude = self.config.include_pattern, self.config.exclude_pattern
        if include is not None and not include.search(key):
            return None
        if exclude is not None and exclude.search(key):
            return None
        if name_problem(CUSTOM_PREFIX + key) is not None:
            self._drop("name", key, line)
            return None
        try:
            number = float(raw_value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self._drop("value", key, line)
            return None
        if not self.config.use_plugin_timestamp:
            return Value(CUSTOM_PREFIX + key, number)
        try:
            epoch = int(raw_epoch)
        except ValueError:
            self._drop("epoch", key, line)
            return None
        if abs(epoch - now) >= PLUGIN_TIMESTAMP_WINDOW_SECONDS:
            self._drop("time", key, line)
            return None
        return Value(CUSTOM_PREFIX + key, number, time=epoch)


def _header_fields(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def _graph_def(graph_name: str, graph: Any) -> dict[str, Any]:
    """One `graph-defs/create` entry; raises ValueError with what is wrong."""
    if not isinstance(graph, dict):
        raise ValueError(f"graph {graph_name!r} is not an object")
    unit = graph.get("unit") or "float"
    if unit not in GRAPH_UNITS:
        raise ValueError(f"graph {graph_name!r} has unknown unit {unit!r}")
    metrics = graph.get("metrics") or []
    if not isinstance(metrics, list) or not all(
        isinstance(m, dict) and isinstance(m.get("name"), str) for m in metrics
    ):
        raise ValueError(f"graph {graph_name!r} metrics must be a list of objects with a name")
    full_name = CUSTOM_PREFIX + graph_name
    return {
        "name": full_name,
        "displayName": str(graph.get("label", "")),
        "unit": unit,
        "metrics": [
            {
                "name": f"{full_name}.{metric['name']}",
                "displayName": str(metric.get("label", "")),
                "isStacked": bool(metric.get("stacked", False)),
            }
            for metric in metrics
        ],
    }


def parse_graph_meta(plugin: str, stdout: str) -> list[dict[str, Any]]:
    """Graph definitions from a plugin's meta output; problems are logged with its name."""
    first_line, _, body = stdout.partition("\n")
    header = _META_HEADER.match(first_line)
    if header is None:
        log.debug("event=graph_meta_missing plugin=%s", plugin)
        return []
    version = _header_fields(header.group(1)).get("version")
    if version is not None and version != "1":
        log.error("event=graph_meta_bad_version plugin=%s version=%r", plugin, version)
        return []
    try:
        meta = json.loads(body)
        graphs = meta["graphs"]
        if not isinstance(graphs, dict):
            raise TypeError("graphs is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        log.error("event=graph_meta_invalid_json plugin=%s error=%r", plugin, str(exc))
        return []
    defs = []
    for graph_name, graph in graphs.items():
        try:
            defs.append(_graph_def(graph_name, graph))
        except ValueError as exc:
            log.error("event=graph_def_invalid plugin=%s error=%r", plugin, str(exc))
    return defs


def collect_graph_defs(plugins: Iterable[MetricPluginGenerator]) -> list[dict[str, Any]]:
    """The `POST /api/v0/graph-defs/create` body for every metric plugin, run in parallel."""
    plugin_list = list(plugins)
    if not plugin_list:
        return []
    with ThreadPoolExecutor(max_workers=len(plugin_list)) as pool:
        per_plugin = pool.map(MetricPluginGenerator.graph_defs, plugin_list)
        return [graph for defs in per_plugin for graph in defs]
