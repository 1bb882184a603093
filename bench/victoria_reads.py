"""Read latency on a full year of one-minute points: SQLite (with its rollups) and
VictoriaMetrics (averages computed per read with `avg_over_time`), side by side.

One series of 525,600 points (a NAB server series repeated, one row a minute) is written
day by day through each series store, SQLite's rollups are brought up to date, then
`read_points` of 1 day, 1 week and 1 year ending now is timed `--reads` times each; the
medians print, with the ratio VictoriaMetrics / SQLite. (The API's 24 h write window keeps
`bench/ingest.py` from writing a year; here the store is driven directly.)

    .venv/bin/python bench/victoria_reads.py [--days 365] [--reads 30]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import tempfile
import time
from pathlib import Path

import worktree  # noqa: F401  (this tree's code first)

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store import Store
from sabamon.server.store.records import Point
from sabamon.server.store.series_store import SeriesStore
from sabamon.server.store.sqlite import SQLiteBackend
from sabamon.server.victoria.endpoints import single_node
from sabamon.server.victoria.store import VictoriaSeriesStore

NAB = Path("/work/shared/data/nab/ec2_cpu_utilization_24ae8d.csv")
SPANS = {"1 day": 86400, "1 week": 7 * 86400, "1 year": 365 * 86400}


def values() -> list[float]:
    with NAB.open() as file:
        return [float(row["value"]) for row in csv.DictReader(file)]


async def load(series: SeriesStore, end: int, days: int, real: list[float]) -> int:
    written = 0
    for day in range(days, 0, -1):
        start = end - day * 86400
        batch = [
            Point("h", "cpu", start + 60 * i, real[(written + i) % len(real)]) for i in range(1440)
        ]
        await series.write_points("bench", "host", batch, start + 86400)
        written += len(batch)
    return written


async def timed_reads(series: SeriesStore, end: int, reads: int) -> dict[str, float]:
    medians = {}
    for label, span in SPANS.items():
        timings = []
        for _ in range(reads):
            started = time.perf_counter()
            got = await series.read_points("bench", "host", "h", "cpu", end - span, end)
            timings.append(time.perf_counter() - started)
            assert got is not None and got.points
        medians[label] = statistics.median(timings)
    return medians


async def main_async(days: int, reads: int) -> None:
    end = int(time.time()) // 86400 * 86400
    real = values()
    with tempfile.TemporaryDirectory(prefix="sabamon-vm-reads-") as scratch:
        victoria = VictoriaProcess(Path(scratch) / "victoria")
        victoria.start()
        sqlite = Store(SQLiteBackend(Path(scratch) / "a.db"))
        vm = Store(
            SQLiteBackend(Path(scratch) / "b.db"),
            series_store=VictoriaSeriesStore(single_node(victoria.url), clock=lambda: end),
        )
        await sqlite.open()
        await vm.open()
        try:
            results = {}
            for label, store in (("SQLite", sqlite), ("VictoriaMetrics", vm)):
                started = time.perf_counter()
                points = await load(store.series, end, days, real)
                await store.series.compact(end + 86400)
                victoria.flush()
                print(f"{label}: {points:,} points loaded in {time.perf_counter() - started:.0f} s")
                results[label] = await timed_reads(store.series, end, reads)
            for span in SPANS:
                sq, vm_ms = results["SQLite"][span] * 1000, results["VictoriaMetrics"][span] * 1000
                print(
                    f"{span}: SQLite {sq:.1f} ms, VictoriaMetrics {vm_ms:.1f} ms "
                    f"(x{vm_ms / sq:.1f}), medians of {reads}"
                )
        finally:
            await vm.close()
            await sqlite.close()
            victoria.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--reads", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main_async(args.days, args.reads))


if __name__ == "__main__":
    main()
