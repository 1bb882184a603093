"""CPU time of one full collection of the agent's Linux collectors, beside the same data
taken through psutil, in the same run. Delta collectors read their counters twice per
collection (the wait between the reads costs no CPU and is set to zero here).

    .venv/bin/python bench/collectors.py [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable
from functools import partial

import psutil
import worktree  # noqa: F401  (this tree's code first)

from sabamon.agent.metrics import CollectorOptions, linux_generators


def sabamon_collection() -> None:
    stop = threading.Event()
    for generator in linux_generators(CollectorOptions()):
        generator.generate(0.0, stop)


def psutil_collection() -> None:
    os.getloadavg()
    psutil.virtual_memory()
    psutil.swap_memory()
    for _ in range(2):  # the delta sources, read twice as the collectors do
        psutil.cpu_times()
        psutil.disk_io_counters(perdisk=True)
        psutil.net_io_counters(pernic=True)
    for partition in psutil.disk_partitions():
        psutil.disk_usage(partition.mountpoint)


def cpu_ms(collect: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.process_time()
        collect()
        samples.append((time.process_time() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    for collect in (sabamon_collection, psutil_collection):  # warm caches and imports
        collect()
    ours = cpu_ms(sabamon_collection, runs)
    baseline = cpu_ms(psutil_collection, runs)
    ours_median, baseline_median = statistics.median(ours), statistics.median(baseline)
    print(f"runs per set: {runs}")
    print(f"sabamon collectors   median {ours_median:.3f} ms CPU per full collection")
    print(f"psutil call set      median {baseline_median:.3f} ms CPU per full collection")
    print(f"ratio sabamon/psutil {ours_median / baseline_median:.2f}")
    stop = threading.Event()
    for generator in linux_generators(CollectorOptions()):
        each = cpu_ms(partial(generator.generate, 0.0, stop), runs)
        print(f"  {generator.name:<11} median {statistics.median(each):.3f} ms")


if __name__ == "__main__":
    main()
