"""Series storage figures: bytes on disk per point after sealing, against the row layout and
VictoriaMetrics on the same points, plus ingest, compaction, reads and memory.

Points: --hosts hosts × 60 metrics × --minutes one-minute points, a realistic mix: agent-like
series (load averages with 2 decimals, memory and filesystem bytes as integers, CPU
percentages as full-precision ratios of jiffy deltas, per-second rates of counters,
constants) and real server series from the NAB corpus (../shared/data/nab, MIT licence: AWS
CloudWatch CPU, network and disk series), a quarter of each host's metrics.

For each backend (SQLite, PostgreSQL), in one run:
- sealed: the points written through the series store in minute order (host-minutes of 60
  points, 32 writes in flight), the compactor run as the server runs it (each simulated
  hour); ingest points/s and process CPU per point; then everything sealed: bytes per point
  of the whole database (tables, indexes; free pages and dead row versions excluded), and
  grown from the empty database (its schema's fixed pages apart), compactor CPU per million
  points and the process RSS before and after sealing;
- rows: the same points as rows of the row layout (`points` plus the 5-minute, hourly and
  daily rollup rows it kept, with their indexes), measured the same way;
- reads of one series holding a year of one-minute points, sealed: 1 day (1-minute step),
  1 week (5-minute), 1 year (1-day), medians of --repeats.
VictoriaMetrics (`victoria-metrics` on PATH): the same points imported over its HTTP API,
flushed and merged, its data folder's size per point.

    .venv/bin/python bench/storage.py [--hosts 40] [--minutes 1440] [--runs 3]
        [--backends sqlite postgres] [--pg URL] [--vm-port 18428]

Each figure is the median of --runs runs.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import psycopg
import worktree  # noqa: F401  (this tree's code first)

from sabamon.server.store import Point, Store
from sabamon.server.store.ops import Query, single
from sabamon.server.store.postgres import PostgresBackend
from sabamon.server.store.sqlite import SQLiteBackend

NAB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nab"
START = 1_700_006_400  # a day boundary
MINUTE, HOUR, DAY = 60, 3600, 86400
IN_FLIGHT = 32

Series = dict[str, np.ndarray]


def nab_series(folder: Path) -> list[np.ndarray]:
    """The NAB corpus' real server series (values only)."""
    found = []
    for path in sorted(folder.glob("*.csv")):
        with path.open() as file:
            rows = list(csv.reader(file))[1:]
        found.append(np.array([float(row[1]) for row in rows]))
    if not found:
        raise SystemExit(f"--nab {folder}: no NAB series (*.csv) there")
    return found


def host_metrics(host: int, minutes: int, nab: list[np.ndarray]) -> Series:
    """60 metrics of one host over `minutes` minutes, as an agent would post them."""
    rng = np.random.default_rng(host)
    out: Series = {}
    walk = np.cumsum(rng.normal(0, 0.05, minutes)) + rng.uniform(0.2, 4)
    for name, lag in (("loadavg1", 1), ("loadavg5", 5), ("loadavg15", 15)):
        smooth = np.convolve(np.abs(walk), np.ones(lag) / lag, mode="same")
        out[name] = np.round(smooth, 2)
    total = float(rng.choice([8, 16, 32, 64])) * 2**30
    used = np.round(total * np.clip(0.4 + np.cumsum(rng.normal(0, 0.002, minutes)), 0.05, 0.95))
    cached = np.round(total * 0.2 + np.cumsum(rng.integers(-4096, 4096, minutes)) * 4096)
    out |= {
        "memory.total": np.full(minutes, total),
        "memory.used": used,
        "memory.cached": cached,
        "memory.buffers": np.round(
            np.full(minutes, total * 0.01) + rng.integers(0, 64, minutes) * 4096
        ),
        "memory.free": total - used - cached,
        "memory.swap_free": np.full(minutes, 2.0 * 2**30),
    }
    for fs in range(4):
        size = float(rng.integers(20, 2000)) * 2**30
        growth = np.cumsum(rng.integers(0, 50, minutes) * 4096)
        out[f"filesystem.sd{fs}.size"] = np.full(minutes, size)
        out[f"filesystem.sd{fs}.used"] = np.round(size * 0.3 + growth)
    jiffies = rng.integers(5000, 7000, (minutes, 8)) * rng.dirichlet(np.ones(8) * 2, minutes)
    ticks = np.floor(jiffies)
    share = ticks / ticks.sum(axis=1, keepdims=True) * 100
    for column, name in enumerate(
        ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    ):
        out[f"cpu.{name}.percentage"] = share[:, column]
    for interface in ("eth0", "eth1"):
        for direction in ("rxBytes", "txBytes"):
            counter = np.cumsum(rng.integers(0, 2_000_000, minutes))
            out[f"interface.{interface}.{direction}.delta"] = np.diff(counter, prepend=0) / 60
        for direction in ("rxPackets", "txPackets"):
            out[f"interface.{interface}.{direction}.delta"] = rng.integers(0, 3000, minutes) / 60
    for disk in ("sda", "sdb"):
        for kind in ("reads", "writes", "readBytes", "writeBytes"):
            scale = 10_000_000 if "Bytes" in kind else 500
            out[f"disk.{disk}.{kind}.delta"] = rng.integers(0, scale, minutes) / 60
    out["custom.constant.cores"] = np.full(minutes, 8.0)
    out["custom.constant.one"] = np.full(minutes, 1.0)
    for index in range(60 - len(out)):
        real = nab[(host * 7 + index) % len(nab)]
        offset = int(rng.integers(0, max(1, len(real) - 1)))
        out[f"real.nab.{index}"] = np.resize(np.roll(real, -offset), minutes)
    return out


def database_bytes(store: Store) -> Callable[[], Any]:
    """A step measuring the database's bytes in use (SQLite pages minus free pages; all
    relations of the PostgreSQL schema with indexes and TOAST)."""
    if isinstance(store.backend, SQLiteBackend):

        def sqlite_size() -> Any:
            pages = yield Query("PRAGMA page_count")
            free = yield Query("PRAGMA freelist_count")
            size = yield Query("PRAGMA page_size")
            return (pages[0][0] - free[0][0]) * size[0][0]

        return sqlite_size

    def pg_size() -> Any:
        rows = yield Query(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
        return int(rows[0][0])

    return pg_size


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


async def write_minutes(store: Store, hosts: list[Series], minutes: int, seal: bool) -> float:
    """Writes host-minutes in minute order, IN_FLIGHT at a time; compacts each hour when
    `seal`, as the server's maintenance would. Returns the CPU seconds of compaction."""
    compaction = 0.0
    names = list(hosts[0])
    pending: set[asyncio.Task[Any]] = set()
    for minute in range(minutes):
        at = START + minute * MINUTE
        for host, metrics in enumerate(hosts):
            points = [Point(f"host{host}", n, at, float(metrics[n][minute])) for n in names]
            pending.add(asyncio.create_task(store.series.write_points("o", "host", points, at)))
            if len(pending) >= IN_FLIGHT:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if seal and (minute + 1) % 60 == 0:
            await asyncio.gather(*pending)
            pending = set()
            cpu = time.process_time()
            await store.series.compact(at + 360)
            compaction += time.process_time() - cpu
    await asyncio.gather(*pending)
    return compaction


def old_rollup_rows() -> Iterator[str]:
    """The row layout's rollup rows and indexes, built from `points` as it kept them."""
    for step in (300, 3600, 86400):
        yield (
            f"INSERT INTO rollup_{step} (series_id, bucket, total, n) "
            f"SELECT series_id, ts - ts % {step}, sum(value), count(*) FROM points "
            f"GROUP BY series_id, ts - ts % {step}"
        )


async def measure_layout(
    make: Callable[[], Store], hosts: list[Series], minutes: int, sealed: bool
) -> dict[str, float]:
    store = make()
    await store.open()
    try:
        points = len(hosts) * 60 * minutes
        empty = await store.backend.read(database_bytes(store)())
        cpu, wall = time.process_time(), time.perf_counter()
        compaction = await write_minutes(store, hosts, minutes, seal=sealed)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        result = {"ingest_points_s": points / wall, "ingest_cpu_us": cpu / points * 1e6}
        if sealed:
            rss_before = rss_mb()
            cpu = time.process_time()
            await store.series.compact(START + minutes * MINUTE + DAY)
            compaction += time.process_time() - cpu
            # every point is sealed into an hour chunk, then merged into its day chunk
            result["seal_cpu_s_per_m"] = compaction / points * 1e6
            result["rss_before_mb"], result["rss_after_mb"] = rss_before, rss_mb()
        else:
            for statement in old_rollup_rows():
                await store.backend.write(single(Query(statement)))
            await store.backend.write(single(Query("DELETE FROM head_windows")))
        if isinstance(store.backend, PostgresBackend):
            # free space and dead row versions excluded, as SQLite's free pages
            with psycopg.connect(store.backend.dsn, autocommit=True) as conn:
                schema = store.backend.schema
                tables = conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
                ).fetchall()
                names = ", ".join(f'"{schema}"."{name}"' for (name,) in tables)
                conn.execute(f"VACUUM FULL {names}")
        used = await store.backend.read(database_bytes(store)())
        result["bytes_per_point"] = used / points
        result["grown_per_point"] = (used - empty) / points
        return result
    finally:
        await store.close()


async def measure_reads(make: Callable[[], Store], repeats: int) -> dict[str, float]:
    """One series holding a year of one-minute points, sealed; read medians in ms."""
    store = make()
    await store.open()
    try:
        year = 365 * DAY
        rng = np.random.default_rng(0)
        values = np.round(np.abs(np.cumsum(rng.normal(0, 0.05, year // MINUTE))), 2)
        end = START + year
        for day in range(0, year, DAY):
            times = range(START + day, START + day + DAY, MINUTE)
            points = [
                Point("reader", "loadavg5", t, float(values[(t - START) // 60])) for t in times
            ]
            await store.series.write_points("o", "host", points, START + day + DAY // 2)
            if day % (30 * DAY) == 0:
                await store.series.compact(START + day)
        await store.series.compact(end + DAY)
        out = {}
        for label, span in (
            ("read_1d_ms", DAY),
            ("read_1w_ms", 7 * DAY),
            ("read_1y_ms", year - DAY),
        ):
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                got = await store.series.read_points(
                    "o", "host", "reader", "loadavg5", end - span, end
                )
                times.append((time.perf_counter() - t0) * 1000)
                assert got is not None and got.points
            out[label] = statistics.median(times)
        return out
    finally:
        await store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def victoria_bytes(hosts: list[Series], minutes: int, port: int) -> dict[str, float]:
    """The points imported into a fresh VictoriaMetrics, flushed and merged: its data
    folder's bytes per point, and import points/s."""
    binary = shutil.which("victoria-metrics")
    if binary is None:
        return {}
    data = Path(tempfile.mkdtemp(prefix="sabamon-vm-"))
    process = subprocess.Popen(
        [binary, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={data}",
         "-retentionPeriod=100y", "-loggerLevel=ERROR"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        empty = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
        stamps = [(START + m * MINUTE) * 1000 for m in range(minutes)]
        started = time.perf_counter()
        for host, metrics in enumerate(hosts):
            lines = [
                json.dumps({
                    "metric": {"__name__": name, "host": f"host{host}"},
                    "values": [float(v) for v in values],
                    "timestamps": stamps,
                })
                for name, values in metrics.items()
            ]  # fmt: skip
            body = ("\n".join(lines) + "\n").encode()
            urllib.request.urlopen(base + "/api/v1/import", data=body, timeout=120).read()
        took = time.perf_counter() - started
        urllib.request.urlopen(base + "/internal/force_flush", timeout=120).read()
        urllib.request.urlopen(base + "/internal/force_merge", timeout=600).read()
        time.sleep(5)  # the merge runs in the background after the call returns
        size = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
        points = len(hosts) * 60 * minutes
        return {
            "bytes_per_point": size / points,
            "grown_per_point": (size - empty) / points,
            "import_points_s": points / took,
        }
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def makers(backend: str, tmp: Path, pg: str) -> Callable[[], Store]:
    if backend == "sqlite":

        def sqlite_store() -> Store:
            return Store(SQLiteBackend(tmp / f"{uuid.uuid4().hex}.db"))

        return sqlite_store

    def pg_store() -> Store:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        return Store(PostgresBackend(pg, schema=schema))

    return pg_store


def drop_bench_schemas(pg: str) -> None:
    with psycopg.connect(pg, autocommit=True) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_%'")
        for (schema,) in rows.fetchall():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=40)
    parser.add_argument("--minutes", type=int, default=1440)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--nab", type=Path, default=NAB, help=f"NAB series (default {NAB})")
    parser.add_argument("--vm-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--skip-vm", action="store_true", help="leave VictoriaMetrics out")
    args = parser.parse_args()
    nab = nab_series(args.nab)
    hosts = [host_metrics(h, args.minutes, nab) for h in range(args.hosts)]
    points = args.hosts * 60 * args.minutes
    print(f"points: {points:,} ({args.hosts} hosts x 60 metrics x {args.minutes} min, "
          f"{len(nab)} NAB series); medians of {args.runs} runs", flush=True)  # fmt: skip
    vm: dict[str, float] = {}
    if shutil.which("victoria-metrics") and not args.skip_vm:
        port = args.vm_port or free_port()
        vm = median_of([victoria_bytes(hosts, args.minutes, port) for _ in range(args.runs)])
    if vm:
        print(f"victoria-metrics: {vm['bytes_per_point']:.2f} B/point "
              f"({vm['grown_per_point']:.2f} grown from its empty folder), "
              f"import {vm['import_points_s']:,.0f} points/s", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="sabamon-storage-") as folder:
        for backend in args.backends:
            make = makers(backend, Path(folder), args.pg)
            try:
                sealed, rows = [], []
                for _ in range(args.runs):
                    sealed.append(asyncio.run(measure_layout(make, hosts, args.minutes, True)))
                    rows.append(asyncio.run(measure_layout(make, hosts, args.minutes, False)))
                    if backend == "postgres":
                        drop_bench_schemas(args.pg)
                new, old = median_of(sealed), median_of(rows)
                reads = median_of([asyncio.run(measure_reads(make, args.repeats))])
            finally:
                if backend == "postgres":
                    drop_bench_schemas(args.pg)
            ratio = old["bytes_per_point"] / new["bytes_per_point"]
            versus = (f", {new['bytes_per_point'] / vm['bytes_per_point']:.2f}x VictoriaMetrics"
                      if vm else "")  # fmt: skip
            print(
                f"{backend}: sealed {new['bytes_per_point']:.2f} B/point "
                f"({new['grown_per_point']:.2f} grown from the empty database), rows "
                f"{old['bytes_per_point']:.2f} B/point ({ratio:.1f}x smaller{versus})\n"
                f"  ingest with sealing {new['ingest_points_s']:,.0f} points/s "
                f"({new['ingest_cpu_us']:.1f} us CPU/point incl. compaction), head only "
                f"{old['ingest_points_s']:,.0f} points/s ({old['ingest_cpu_us']:.1f} us/point)\n"
                f"  compaction {new['seal_cpu_s_per_m']:.1f} CPU s per million points sealed; "
                f"RSS {new['rss_before_mb']:.0f} MB before, {new['rss_after_mb']:.0f} MB after "
                f"(peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)\n"
                f"  reads of a sealed year: 1 day {reads['read_1d_ms']:.1f} ms, 1 week "
                f"{reads['read_1w_ms']:.1f} ms, 1 year {reads['read_1y_ms']:.1f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
