"""Bytes on disk per point in VictoriaMetrics, with a realistic value mix, written the way
sabamon's VictoriaMetrics series store writes them.

The mix: agent-like series (loadavg with 2 decimals, memory and filesystem bytes as
integers, CPU percentages as full-precision ratios of jiffy deltas, per-second rates of
counters, constants) plus the NAB corpus' real server series (`/work/shared/data/nab/`, MIT
licence there; each row taken as one minute). Each host-minute is written as an agent's
post arrives, `--delay` seconds after its minute, through `VictoriaSeriesStore.write_points`.

Two scratch VictoriaMetrics run side by side on the same points: one written by sabamon's
store (a sample of second t at a millisecond inside (t-1 s, t s] that orders rewrites, see
`server/victoria/labels.py`), one with plain whole-second timestamps, so the cost of that
ordering shows. Sizes are taken after a forced merge and a clean stop: the whole data
folder (samples and index) and the sample parts alone.

    .venv/bin/python bench/victoria_disk.py [--hosts 40] [--minutes 1440] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import worktree  # noqa: F401  (this tree's code first)

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store.records import Point
from sabamon.server.victoria.endpoints import single_node
from sabamon.server.victoria.labels import OWNER_LABEL
from sabamon.server.victoria.store import VictoriaSeriesStore

NAB = Path("/work/shared/data/nab")
START = 1_700_006_400
HZ = 100  # jiffies a second


def nab_series() -> list[list[float]]:
    series = []
    for path in sorted(NAB.glob("*.csv")):
        with path.open() as file:
            series.append([float(row["value"]) for row in csv.DictReader(file)])
    return series


def agent_host(rng: random.Random, minutes: int) -> Iterator[dict[str, float]]:
    """One host's agent-like metrics, minute after minute."""
    load = rng.uniform(0.1, 4)
    mem_total = rng.choice([4, 8, 16, 32]) * 2**30
    mem_used = mem_total * rng.uniform(0.2, 0.7)
    fs_size = rng.choice([50, 100, 500]) * 10**9
    fs_used = fs_size * rng.uniform(0.1, 0.8)
    counters = {name: rng.uniform(1e3, 1e6) for name in ("rx", "tx", "reads", "writes")}
    cpus = rng.choice([2, 4, 8])
    for _ in range(minutes):
        load = max(0.0, load + rng.gauss(0, 0.15))
        mem_used = min(mem_total * 0.95, max(mem_total * 0.1, mem_used + rng.gauss(0, 2**22)))
        fs_used += rng.randint(0, 2**20)
        total = 60 * HZ * cpus
        busy = [rng.randint(0, total // 4) for _ in range(4)]
        idle = total - sum(busy)
        metrics = {
            "loadavg1": round(load + rng.uniform(-0.2, 0.2), 2),
            "loadavg5": round(load, 2),
            "loadavg15": round(load * 0.9, 2),
            "memory.total": float(mem_total),
            "memory.used": float(int(mem_used)),
            "memory.cached": float(int(mem_total * 0.2 + rng.randint(0, 2**24))),
            "memory.buffers": float(int(mem_total * 0.02)),
            "memory.swap_total": float(2**31),
            "memory.swap_free": float(2**31 - 2**20 * rng.randint(0, 3)),
            "filesystem.sda1.size": float(fs_size),
            "filesystem.sda1.used": float(int(fs_used)),
            "cpu.idle.percentage": idle / total * 100 * cpus,
        }
        for name, jiffies in zip(("user", "system", "iowait", "steal"), busy, strict=True):
            metrics[f"cpu.{name}.percentage"] = jiffies / total * 100 * cpus
        for name in counters:
            delta = rng.randint(0, int(counters[name]))
            metrics[f"interface.eth0.{name}Bytes.delta"] = delta / 60
        yield metrics


def points_by_minute(hosts: int, minutes: int, seed: int) -> list[list[Point]]:
    """[minute] → the points every host posts for that minute."""
    rng = random.Random(seed)
    nab = nab_series()
    by_minute: list[list[Point]] = [[] for _ in range(minutes)]
    for host in range(hosts):
        host_id = f"host{host:04d}"
        agent = 0
        for minute, metrics in enumerate(agent_host(rng, minutes)):
            at = START + 60 * minute
            by_minute[minute] += [Point(host_id, n, at, v) for n, v in metrics.items()]
            agent = len(metrics)
        for index in range(60 - agent):  # 60 metrics a host: the rest are real series
            values = nab[(host * 7 + index) % len(nab)]
            offset = (host * 131 + index * 17) % len(values)
            name = f"custom.nab.s{index}"
            for minute in range(minutes):
                value = values[(offset + minute) % len(values)]
                by_minute[minute].append(Point(host_id, name, START + 60 * minute, value))
    return by_minute


async def load_through_store(
    victoria: VictoriaProcess, minutes: list[list[Point]], delay: int
) -> None:
    series = VictoriaSeriesStore(single_node(victoria.url), clock=lambda: START)
    await series.open()
    try:
        for batch in minutes:
            now = batch[0].time + delay
            for start in range(0, len(batch), 6000):
                await series.write_points("bench", "host", batch[start : start + 6000], now)
    finally:
        await series.close()


def load_plain(victoria: VictoriaProcess, minutes: list[list[Point]]) -> None:
    label = OWNER_LABEL["host"]
    with httpx.Client(timeout=60) as client:
        for batch in minutes:
            body = "".join(
                f'{p.name}{{org="bench",{label}="{p.owner_id}"}} {p.value!r} {p.time * 1000}\n'
                for p in batch
            )
            client.post(victoria.url + "/api/v1/import/prometheus", content=body).raise_for_status()


def settle(victoria: VictoriaProcess) -> tuple[int, int]:
    """(whole data folder, sample parts) in bytes after a forced merge and a clean stop."""
    victoria.flush()
    httpx.get(victoria.url + "/internal/force_merge", timeout=600).raise_for_status()
    time.sleep(2)  # the merge runs in the background; a clean stop waits for it
    victoria.stop()
    data = victoria.data_dir / "data"
    parts = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
    return victoria.disk_bytes(), parts


def run_once(minutes: list[list[Point]], delay: int, scratch: Path) -> dict[str, tuple[int, int]]:
    store_vm = VictoriaProcess(scratch / "store")
    plain_vm = VictoriaProcess(scratch / "plain")
    store_vm.start()
    plain_vm.start()
    try:
        asyncio.run(load_through_store(store_vm, minutes, delay))
        load_plain(plain_vm, minutes)
        return {"sabamon store": settle(store_vm), "whole seconds": settle(plain_vm)}
    finally:
        store_vm.stop()
        plain_vm.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--minutes", type=int, default=1440)
    parser.add_argument("--delay", type=int, default=3, help="seconds from a minute to its post")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    minutes = points_by_minute(args.hosts, args.minutes, seed=1)
    count = sum(len(batch) for batch in minutes)
    print(f"{count:,} points: {args.hosts} hosts x 60 metrics x {args.minutes} minutes")
    runs: dict[str, list[tuple[int, int]]] = {}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="sabamon-vm-disk-") as scratch:
            for label, sizes in run_once(minutes, args.delay, Path(scratch)).items():
                runs.setdefault(label, []).append(sizes)
                print(f"  run {run + 1} {label}: {sizes[0] / count:.2f} B/point", flush=True)
    for label, measured in runs.items():
        whole = statistics.median(s[0] for s in measured) / count
        parts = statistics.median(s[1] for s in measured) / count
        print(f"{label}: {whole:.2f} bytes/point on disk (samples alone {parts:.2f}), median")
    ratio = statistics.median(s[0] for s in runs["sabamon store"]) / statistics.median(
        s[0] for s in runs["whole seconds"]
    )
    print(f"ratio sabamon store / whole seconds: {ratio:.2f}")


if __name__ == "__main__":
    main()
