"""Agent spool and cycle: steady RSS with a full spool (with and without a metric plugin), RSS
while and after the spool drains, CPU per one-minute cycle, start to first post; each beside
a bare `python -c 'import psutil'` measured in the same run.

Run: .venv/bin/python bench/agent_spool.py   (loopback only; takes about a minute)
(The whole process over real minutes, beside collectd and node_exporter: bench/agent_footprint.py.)
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "agent"))
import worktree  # this tree's code first
from agent_process import start_agent, stop, write_config
from fault_server import Fault, FaultServer

from sabamon.agent.api import AgentApi
from sabamon.agent.collect import Gatherer
from sabamon.agent.loop import LoopTimings
from sabamon.agent.metrics import CollectorOptions, linux_generators
from sabamon.agent.spool import BatchKind, Spool

SEVEN_DAYS_OF_MINUTES = 7 * 24 * 60
RSS_TIMINGS = (
    "post_interval=1,delta_interval=0.05,tick_resolution=0.05,error_delay=0.5,max_terminating=2,"
    "queued_delay=0"  # once the server answers, the backlog drains as fast as it can
)


def bare_psutil_rss() -> float:
    code = "import psutil, time; print(psutil.Process().memory_info().rss)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=worktree.child_env()
    )
    return int(output.stdout) / 2**20


def fill_spool(folder: Path, batch: list[dict[str, object]]) -> Spool:
    spool = Spool(folder)
    for minute in range(SEVEN_DAYS_OF_MINUTES):
        spool.append(BatchKind.METRICS, [{**v, "time": 1_700_000_000 + 60 * minute} for v in batch])
        if minute % 2000 == 0:
            print(f"  filling spool: {minute}/{SEVEN_DAYS_OF_MINUTES} batches", file=sys.stderr)
    return spool


def one_batch() -> list[dict[str, object]]:
    gatherer = Gatherer(
        linux_generators(CollectorOptions()),
        lambda ci: "bench-host",
        LoopTimings(delta_interval=0.0),
        threading.Event(),
    )
    values = gatherer.gather(int(time.time()))
    gatherer.close()
    return values


def bare_config(folder: Path, apibase: str) -> Path:
    """The default agent: Linux collectors only, no plugins."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "agent.conf"
    conf.write_text(f'apikey = "bench"\napibase = "{apibase}"\ncloud_platform = "none"\n')
    return conf


def rss_of(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def steady_and_drain_rss(server: FaultServer, conf: Path, root: Path) -> tuple[float, float, float]:
    """Median RSS with the spool full (the server refusing), peak while it drains, and RSS once
    it is empty (no per-batch growth expected)."""
    server.stored.clear()
    server.fail(Fault(lambda r: r.path == "/api/v0/tsdb", 503))  # keep the spool full
    agent = start_agent(conf, root, timings=RSS_TIMINGS)
    samples = []
    for _ in range(20):
        time.sleep(0.5)
        samples.append(rss_of(agent.pid))
    server.clear_faults()
    draining = []
    while agent.poll() is None and len(server.calls("POST", "/api/v0/tsdb")) < 3000:
        time.sleep(0.5)
        draining.append(rss_of(agent.pid))
    server.wait_until(lambda: _spool_empty(server), timeout=600)
    time.sleep(2)
    after = rss_of(agent.pid)
    stop(agent)
    return statistics.median(samples[10:]), max(draining, default=after), after


def _spool_empty(server: FaultServer) -> bool:
    """True once a tsdb post carries only this run's minutes: the old backlog is gone (it
    drains oldest first, and its minutes are from 2023)."""
    posts = server.calls("POST", "/api/v0/tsdb")
    return bool(posts) and min(v["time"] for v in posts[-1].body) > time.time() - 600


def cycle_cpu(server: FaultServer, folder: Path, cycles: int = 30) -> tuple[float, float]:
    """CPU ms per cycle (collect, spool, post), and for a bare psutil collection."""
    api = AgentApi(server.url, "bench")
    spool = Spool(folder / "cycle-spool")
    gatherer = Gatherer(
        linux_generators(CollectorOptions()),
        lambda ci: "bench-host",
        LoopTimings(delta_interval=0.0),
        threading.Event(),
    )
    agent_ms, bare_ms = [], []
    for _ in range(cycles):
        started = time.process_time()
        values = gatherer.gather(int(time.time()))
        seq = spool.append(BatchKind.METRICS, values)
        api.post_metric_values(spool.oldest(BatchKind.METRICS, 1)[0].body)
        spool.ack([seq])
        agent_ms.append((time.process_time() - started) * 1000)
        started = time.process_time()
        psutil.cpu_times(), psutil.virtual_memory(), psutil.swap_memory()
        psutil.disk_io_counters(perdisk=True), psutil.net_io_counters(pernic=True)
        [psutil.disk_usage(p.mountpoint) for p in psutil.disk_partitions()]
        bare_ms.append((time.process_time() - started) * 1000)
    gatherer.close()
    api.close()
    return statistics.median(agent_ms), statistics.median(bare_ms)


def _mkdir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def first_post_seconds(folder: Path) -> float:
    """Start to first tsdb post, with the delta window shrunk to 0.05 s; the host's posting
    second is 0 for this id at post_interval=1 (timings shrink only the waits)."""
    folder.mkdir(parents=True)
    with FaultServer() as server:
        conf = write_config(folder, server.url)
        started = time.monotonic()
        agent = start_agent(conf, folder / "root", timings=RSS_TIMINGS)
        server.wait_until(lambda: bool(server.calls("POST", "/api/v0/tsdb")), timeout=30)
        elapsed = server.calls("POST", "/api/v0/tsdb")[0].at - started
        stop(agent)
    return elapsed


def import_rss(modules: str) -> float:
    code = f"import {modules}, psutil; print(psutil.Process().memory_info().rss)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=worktree.child_env()
    )
    return int(output.stdout) / 2**20


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FaultServer() as server:
        folder = Path(tmp)
        bare = bare_psutil_rss()
        batch = one_batch()
        full = folder / "full-spool"
        spool = fill_spool(full, batch)
        size, count = spool.size_bytes(), spool.count()
        spool.close()
        print(f"bare python + psutil RSS           {bare:6.1f} MB")
        print(f"spool: {count} batches (7 days), {size / 2**20:.1f} MB on disk")
        for label, conf in (
            ("no plugins", bare_config(folder / "bare", server.url)),
            ("one metric plugin", write_config(_mkdir(folder / "plugin"), server.url)),
        ):
            root = conf.parent / "root"
            shutil.copytree(full, root / "spool")
            rss, peak, after = steady_and_drain_rss(server, conf, root)
            print(f"agent, {label}:")
            print(f"  steady RSS, full spool           {rss:6.1f} MB  ({rss / bare:.2f}x bare)")
            print(f"  peak RSS while draining          {peak:6.1f} MB")
            print(f"  RSS after the drain              {after:6.1f} MB")
        agent_ms, bare_ms = cycle_cpu(server, folder)
        print(f"bare psutil collection CPU         {bare_ms:6.2f} ms (median)")
        print(
            f"agent cycle CPU (collect+post)     {agent_ms:6.2f} ms (median,"
            f" {agent_ms / bare_ms:.1f}x bare)"
        )
        for modules in ("httpx", "http.client", "sabamon.agent.run"):
            print(f"bare + import {modules:<20} {import_rss(modules):6.1f} MB")
        starts = [first_post_seconds(folder / f"start{i}") for i in range(3)]
        print(
            f"start -> first post                {statistics.median(starts):6.2f} s (median of 3)"
        )


if __name__ == "__main__":
    main()
