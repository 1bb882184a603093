"""A long outage simulated with an injected clock: the agent's gatherer, real subprocess
plugins and its spool run minute after minute while the server is unreachable, then a real
sabamon server (on loopback, its clock moved to the end of the outage) takes the backlog
from the agent's poster. Used by the outage test and by `bench/outage.py`.

Plugins: healthy ones, a garbage one (names the API refuses, words for numbers, NaN, short
lines, one good line) and a flooding one (distinct names without end, capped per run).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server" / "api"))
from api_server import free_socket, serve_in_thread
from tests.support.clock import StepClock

from sabamon.agent.api import AgentApi
from sabamon.agent.collect import Gatherer
from sabamon.agent.loop import LoopTimings, MetricPoster, Shutdown
from sabamon.agent.plugins.config import MetricPluginConfig, PluginCommand
from sabamon.agent.plugins.metrics import MetricPluginGenerator
from sabamon.agent.plugins.runner import PluginRunner
from sabamon.agent.spool import BatchKind, Spool
from sabamon.server.app import create_app
from sabamon.server.cli import bootstrap, make_store

START = 1_790_000_040  # a minute boundary
HEALTHY = "for i in 1 2 3 4 5; do printf 'svc.m%s\\t%s\\t0\\n' $i $i; done"
GARBAGE = (
    "printf 'storm.acker.verify:__ack\\t12\\t0\\nses.bounces\\tint\\t0\\n"
    "bad.nan\\tnan\\t0\\nonly.two\\t4\\nname with space\\t1\\t0\\ngarbage.ok\\t7\\t0\\n'"
)
FLOOD = "awk 'BEGIN { for (i = 1; i <= 20000; i++) printf \"flood.m%d\\t1\\t0\\n\", i }'"
"""20,000 distinct names a run, twenty times the plugin's `max_values` (a flood without end
would also cost its timeout each run, and the runner's output cap bounds it)."""
QUICK = LoopTimings(post_interval=60.0, queued_delay=0.0, error_delay=0.05, terminating_delay=0.0)


@dataclass
class Figures:
    minutes: int
    step: int
    """Minutes between two simulated collections."""
    collected: int = 0
    """Points the agent collected and spooled (after dropping what the API would refuse)."""
    stored_by_time: Counter[int] = field(default_factory=Counter)
    """(series, minute) points the server holds afterwards, by minute."""
    evicted_batches: int = 0
    evicted_points: int = 0
    """Points in the batches the spool's bound evicted (oldest first)."""
    dropped_by_plugins: int = 0
    """Lines the garbage plugin printed that the agent dropped before spooling."""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return sum(self.stored_by_time.values())

    @property
    def missing(self) -> int:
        return self.collected - self.stored

    def stored_before(self, at: int) -> int:
        return sum(n for minute, n in self.stored_by_time.items() if minute < at)


def plugin(
    name: str, shell: str, clock: StepClock, runner: PluginRunner, max_values: int = 1000
) -> MetricPluginGenerator:
    command = PluginCommand(f"plugin.metrics.{name}", shell, timeout_seconds=5)
    config = MetricPluginConfig(name, command, max_values=max_values)
    return MetricPluginGenerator(config, runner, clock=clock)


def simulate(
    minutes: int,
    folder: Path,
    *,
    step: int = 1,
    spool_bytes: int = 64 << 20,
    flood_cap: int = 1000,
    progress: Callable[[str], None] = print,
) -> Figures:
    """Collect every `step` simulated minutes for `minutes` with the server unreachable,
    then let the agent's poster reach it (its clock at the end of the outage); count what
    arrived. The flooding plugin keeps `flood_cap` values a run (its `max_values`)."""
    figures = Figures(minutes, step)
    clock = StepClock(START)
    key = asyncio.run(bootstrap(make_store(None, folder / "server")))
    assert key is not None
    app = create_app(make_store(None, folder / "server"), clock=clock, alerting=None)
    sock = free_socket()
    server, thread = serve_in_thread(app, sock)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    spool = Spool(folder / "spool", spool_bytes)
    try:
        with httpx.Client(base_url=url, headers={"X-Api-Key": key.key}, timeout=60) as http:
            host_id = http.post("/api/v0/hosts", json={"name": "outage", "meta": {}}).json()["id"]
            collect(figures, spool, host_id, clock, flood_cap, progress)
            clock.time = START + 60 * minutes  # the server is back; its clock too
            started = time.monotonic()
            with AgentApi(url, key.key) as api:
                drain(spool, api, clock, progress)
            figures.seconds["post"] = time.monotonic() - started
            figures.stored_by_time = count_stored(http, host_id, START, START + 60 * minutes)
    finally:
        server.should_exit = True
        thread.join(30)
        spool.close()
    return figures


def collect(
    figures: Figures,
    spool: Spool,
    host_id: str,
    clock: StepClock,
    flood_cap: int,
    progress: Callable[[str], None],
) -> None:
    """One collection a simulated minute, spooled; nothing is posted meanwhile."""
    runner = PluginRunner()
    generators = [
        plugin("healthy_a", HEALTHY, clock, runner),
        plugin("healthy_b", HEALTHY.replace("svc", "app"), clock, runner),
        plugin("garbage", GARBAGE, clock, runner),
        plugin("flood", FLOOD, clock, runner, flood_cap),
    ]
    gatherer = Gatherer(generators, {None: host_id}.get, QUICK, threading.Event())
    started = time.monotonic()
    spooled: dict[int, int] = {}  # seq -> points
    for minute in range(0, figures.minutes, figures.step):
        clock.time = START + 60 * minute
        values = gatherer.gather(int(clock.time))
        spooled[spool.append(BatchKind.METRICS, values)] = len(values)
        figures.collected += len(values)
        if minute % 720 == 0:
            progress(f"  minute {minute}/{figures.minutes}: spool {spool.size_bytes()} bytes")
    gatherer.close()
    figures.seconds["collect"] = time.monotonic() - started
    live = {batch.seq for batch in spool.oldest(BatchKind.METRICS, len(spooled))}
    figures.evicted_batches = spool.evicted
    figures.evicted_points = sum(n for seq, n in spooled.items() if seq not in live)
    figures.dropped_by_plugins = 5 * len(spooled)  # the five bad lines of GARBAGE a run


def drain(spool: Spool, api: AgentApi, clock: StepClock, progress: Callable[[str], None]) -> None:
    shutdown = Shutdown(3600.0)
    poster = MetricPoster(api, spool, QUICK, 0, shutdown, clock=clock)
    thread = threading.Thread(target=poster.run, daemon=True)
    thread.start()
    total = spool.count()
    while spool.count():
        progress(f"  posting: {total - spool.count()}/{total} batches")
        thread.join(2.0)
    shutdown.request()
    thread.join(30)


def count_stored(http: httpx.Client, host_id: str, start: int, end: int) -> Counter[int]:
    """(series, minute) points the server holds in [start, end) by minute, read 20 h at a
    time (the longest span read at one-minute steps)."""
    names = http.get(f"/api/v0/hosts/{host_id}/metric-names").json()["names"]
    window = 20 * 3600 - 60
    stored: Counter[int] = Counter()
    for name in names:
        for frm in range(start, end, window):
            to = min(frm + window, end) - 1
            answer = http.get(
                f"/api/v0/hosts/{host_id}/metrics", params={"name": name, "from": frm, "to": to}
            )
            stored.update(p["time"] for p in answer.json()["metrics"] if start <= p["time"] < end)
    return stored
