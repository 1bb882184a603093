"""Plugin runner figures: 20 metric plugins of 100 ms each within one tick, and the agent's
own CPU per plugin run (children excluded). Prints medians over several rounds.

    .venv/bin/python bench/plugins.py [--rounds 7] [--plugins 20]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import worktree  # noqa: F401  (this tree's code first)

from sabamon.agent.plugins.config import MetricPluginConfig, PluginCommand
from sabamon.agent.plugins.metrics import MetricPluginGenerator
from sabamon.agent.plugins.runner import PluginRunner

SLEEP_PLUGIN = (
    Path(__file__).resolve().parent.parent / "tests/agent/plugins/scripts/sleep_metric.sh"
)
TICK_SECONDS = 60.0


def agent_cpu_seconds() -> float:
    """CPU time of this process (all threads), not of the plugins it started."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_tick(generators: list[MetricPluginGenerator]) -> tuple[float, float, int]:
    """Runs every generator in parallel as the gatherer does: wall seconds, agent CPU
    seconds, values collected."""
    stop = threading.Event()
    cpu_before, started = agent_cpu_seconds(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(generators)) as pool:
        results = list(pool.map(lambda g: g.generate(TICK_SECONDS, stop), generators))
    wall, cpu = time.perf_counter() - started, agent_cpu_seconds() - cpu_before
    return wall, cpu, sum(len(values) for values in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--plugins", type=int, default=20)
    args = parser.parse_args()
    runner = PluginRunner()
    generators = [
        MetricPluginGenerator(
            MetricPluginConfig(
                name=f"sleep{i}",
                command=PluginCommand(key=f"plugin.metrics.sleep{i}", command=(str(SLEEP_PLUGIN),)),
            ),
            runner,
        )
        for i in range(args.plugins)
    ]
    one_tick(generators)  # warm-up
    walls, cpus = [], []
    for round_number in range(1, args.rounds + 1):
        wall, cpu, values = one_tick(generators)
        assert values == args.plugins, f"expected {args.plugins} values, got {values}"
        walls.append(wall)
        cpus.append(cpu)
        print(
            f"round {round_number}/{args.rounds}: wall={wall * 1000:.0f}ms cpu={cpu * 1000:.1f}ms"
        )
    serial = 0.1 * args.plugins
    wall_ms = statistics.median(walls) * 1000
    cpu_per_run_ms = statistics.median(cpus) * 1000 / args.plugins
    print(f"plugins={args.plugins} of 100 ms each, max_parallel={runner.max_parallel}")
    print(
        f"tick wall median: {wall_ms:.0f} ms ({wall_ms / (serial * 1000):.2f}x of the "
        f"{serial:.1f} s serial baseline; budget {TICK_SECONDS:.0f} s)"
    )
    print(f"agent CPU per plugin run median: {cpu_per_run_ms:.2f} ms (target <= 5 ms)")


if __name__ == "__main__":
    main()
