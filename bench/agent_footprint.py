"""Agent footprint: steady RSS with a full spool, CPU per one-minute cycle, start to first
post; each beside a bare `python -c 'import psutil'` measured in the same run.

Run: .venv/bin/python bench/agent_footprint.py   (loopback only; takes about a minute)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "agent"))
from agent_process import start_agent, stop, write_config
from fault_server import Fault, FaultServer

from sabamon.agent.api import AgentApi
from sabamon.agent.collect import Collector
from sabamon.agent.loop import LoopTimings
from sabamon.agent.metrics import CollectorOptions, linux_generators
from sabamon.agent.spool import BatchKind, Spool

SEVEN_DAYS_OF_MINUTES = 7 * 24 * 60
RSS_TIMINGS = (
    "post_interval=1,delta_interval=0.05,tick_resolution=0.05,error_delay=0.5,max_terminating=2"
)


def bare_psutil_rss() -> float:
    code = "import psutil, time; print(psutil.Process().memory_info().rss)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return int(output.stdout) / 2**20


def fill_spool(folder: Path, batch: list[dict[str, object]]) -> Spool:
    spool = Spool(folder)
    for minute in range(SEVEN_DAYS_OF_MINUTES):
        spool.append(BatchKind.METRICS, [{**v, "time": 1_700_000_000 + 60 * minute} for v in batch])
        if minute % 2000 == 0:
            print(f"  filling spool: {minute}/{SEVEN_DAYS_OF_MINUTES} batches", file=sys.stderr)
    return spool


def one_batch() -> list[dict[str, object]]:
    collector = Collector(
        linux_generators(CollectorOptions()),
        lambda ci: "bench-host",
        LoopTimings(delta_interval=0.0),
        threading.Event(),
    )
    values = collector.collect(int(time.time()))
    collector.close()
    return values


def steady_rss(server: FaultServer, folder: Path) -> tuple[float, int, int]:
    batch = one_batch()
    spool = fill_spool(folder / "root" / "spool", batch)
    size, count = spool.size_bytes(), spool.count()
    spool.close()
    server.fail(Fault(lambda r: r.path == "/api/v0/tsdb", 503))  # keep the spool full
    agent = start_agent(write_config(folder, server.url), folder / "root", timings=RSS_TIMINGS)
    samples = []
    for _ in range(20):
        time.sleep(0.5)
        samples.append(psutil.Process(agent.pid).memory_info().rss / 2**20)
    stop(agent)
    server.clear_faults()
    return statistics.median(samples[10:]), size, count


def cycle_cpu(server: FaultServer, folder: Path, cycles: int = 30) -> tuple[float, float]:
    """CPU ms per cycle (collect, spool, post), and for a bare psutil collection."""
    api = AgentApi(server.url, "bench")
    spool = Spool(folder / "cycle-spool")
    collector = Collector(
        linux_generators(CollectorOptions()),
        lambda ci: "bench-host",
        LoopTimings(delta_interval=0.0),
        threading.Event(),
    )
    agent_ms, bare_ms = [], []
    for _ in range(cycles):
        started = time.process_time()
        values = collector.collect(int(time.time()))
        seq = spool.append(BatchKind.METRICS, values)
        api.post_metric_values(spool.oldest(BatchKind.METRICS, 1)[0].body)
        spool.ack([seq])
        agent_ms.append((time.process_time() - started) * 1000)
        started = time.process_time()
        psutil.cpu_times(), psutil.virtual_memory(), psutil.swap_memory()
        psutil.disk_io_counters(perdisk=True), psutil.net_io_counters(pernic=True)
        [psutil.disk_usage(p.mountpoint) for p in psutil.disk_partitions()]
        bare_ms.append((time.process_time() - started) * 1000)
    collector.close()
    api.close()
    return statistics.median(agent_ms), statistics.median(bare_ms)


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
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return int(output.stdout) / 2**20


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FaultServer() as server:
        folder = Path(tmp)
        bare = bare_psutil_rss()
        rss, size, count = steady_rss(server, folder / "rss")
        print(f"bare python + psutil RSS           {bare:6.1f} MB")
        print(
            f"agent steady RSS, full spool       {rss:6.1f} MB  ({rss / bare:.2f}x bare;"
            f" spool {count} batches, {size / 2**20:.1f} MB on disk)"
        )
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
