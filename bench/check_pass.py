"""The check fast path at fleet size: one `Engine.evaluate_checks` pass over N hosts × K checks.

Every check has reported OK and been evaluated (passes ran as the reports aged); then one
host's check turns CRITICAL and a pass runs, as after its report: it reads only the checks
reported since the previous pass (plus `CHECK_OVERLAP` seconds). Printed: the median pass
(of `--runs`) beside the median minute cycle of the same checks (the path that evaluates
them at the minute otherwise), measured side by side on the same store. The scheduler
spaces passes by `CHECK_PASS_SPACING` (0.5 s); reports arriving meanwhile share a pass.

Run: .venv/bin/python bench/check_pass.py [--hosts 2000] [--checks 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import worktree  # noqa: F401  (this tree's code first)

from sabamon.server.alerts.engine import Engine
from sabamon.server.alerts.scheduler import CHECK_PASS_SPACING, GRACE
from sabamon.server.store import Store
from sabamon.server.store.records import CheckReport, HostInput
from sabamon.server.store.sqlite import SQLiteBackend

T0 = 1_800_000_000 - 1_800_000_000 % 60


def reports(host_ids: list[str], checks: int, minute: int, critical: str) -> list[CheckReport]:
    return [
        CheckReport(
            h,
            f"check{c}",
            "CRITICAL" if h == critical and c == 0 else "OK",
            "",
            minute + 5,
            None,
            1,
        )
        for h in host_ids
        for c in range(checks)
    ]


async def run(store: Store, hosts: int, checks: int, runs: int) -> None:
    await store.open()
    try:
        org, _ = await store.ensure_org("bench")
        host_ids = list(
            await asyncio.gather(
                *(store.create_host(org.id, HostInput(name=f"h{i}"), T0 - 3600)
                  for i in range(hosts))
            )
        )  # fmt: skip
        now = [float(T0)]
        engine = Engine(store, org, clock=lambda: now[0])
        passes, cycles = [], []
        for run_index in range(runs):
            minute = T0 + run_index * 120
            now[0] = minute + 6
            await store.write_check_reports(org.id, reports(host_ids, checks, minute, ""),
                                            minute + 6)  # fmt: skip
            for second in (6, 30, 60):  # passes while the fleet's OK reports age
                now[0] = minute + second
                await engine.evaluate_checks()
            critical = host_ids[run_index % hosts]
            now[0] = minute + 61
            one = reports([critical], 1, minute + 60, critical)
            await store.write_check_reports(org.id, one, minute + 61)
            started = time.perf_counter()
            committed = await engine.evaluate_checks()
            passes.append(time.perf_counter() - started)
            await store.write_check_reports(org.id, reports(host_ids, checks, minute + 60, ""),
                                            minute + 90)  # fmt: skip
            now[0] = minute + 120 + GRACE
            started = time.perf_counter()
            await engine.evaluate_minute(minute + 60)
            cycles.append(time.perf_counter() - started)
            print(f"  run {run_index}: pass {passes[-1] * 1000:.1f} ms ({committed} committed), "
                  f"minute cycle {cycles[-1] * 1000:.0f} ms")  # fmt: skip
        pass_median, cycle_median = statistics.median(passes), statistics.median(cycles)
        print(f"sqlite: {hosts} hosts × {checks} checks: median check pass "
              f"{pass_median * 1000:.1f} ms, median minute cycle {cycle_median * 1000:.0f} ms "
              f"(ratio {pass_median / cycle_median:.2f}); at one pass per "
              f"{CHECK_PASS_SPACING} s the fast path keeps "
              f"{pass_median / CHECK_PASS_SPACING:.0%} of one core busy at most")  # fmt: skip
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--checks", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await run(
            Store(SQLiteBackend(Path(folder) / "bench.db")), args.hosts, args.checks, args.runs
        )


if __name__ == "__main__":
    asyncio.run(main())
