"""Time to group a host's metric names into graphs (server/web/graphs.py `host_graphs`, run
on every host page view) with an organisation's full 5,000 graph definitions: 1,000
plugins' definitions of two to seven segments (`custom.p7.*`, `custom.p7.#.requests`, ...)
and a host with the metrics of 100 of those plugins (custom names, three a definition),
plus the system metrics.

    .venv/bin/python bench/graph_defs.py [--rounds 15] [--definitions 5000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import worktree  # noqa: F401  (this tree's code first)

from sabamon.server.store.records import GraphDef
from sabamon.server.web.graphs import host_graphs

SHAPES = ("custom.p{i}.*", "custom.p{i}.#.requests", "custom.p{i}.a.*", "custom.p{i}.a.b.#",
          "custom.p{i}.a.b.c.*")  # fmt: skip
SYSTEM = ["loadavg5", "cpu.user.percentage", "memory.used", "disk.sda.reads.delta",
          "interface.eth0.rxBytes.delta", "filesystem.sda1.size"]  # fmt: skip


def definitions(count: int) -> list[GraphDef]:
    """`count` definitions, five shapes per plugin, one metric pattern each."""
    defs = []
    for number in range(count):
        pattern = SHAPES[number % len(SHAPES)].format(i=number // len(SHAPES))
        name = pattern.rpartition(".")[0]
        defs.append(GraphDef(name, None, "float", [{"name": pattern, "isStacked": False}]))
    return defs


def host_names(plugins: int) -> list[str]:
    """Three series under each definition of the first `plugins` plugins."""
    names = list(SYSTEM)
    for number in range(plugins):
        for shape in SHAPES:
            pattern = shape.format(i=number)
            names += [pattern.replace("*", f"s{k}").replace("#", f"s{k}") for k in range(3)]
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--definitions", type=int, default=5000)
    args = parser.parse_args()
    defs, names = definitions(args.definitions), host_names(100)
    timings = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        graphs = host_graphs(names, defs)
        timings.append(time.perf_counter() - started)
    print(
        f"definitions={len(defs)} metric_names={len(names)} graphs={len(graphs)} "
        f"host_graphs_ms median={statistics.median(timings) * 1000:.1f} "
        f"min={min(timings) * 1000:.1f} rounds={args.rounds}"
    )


if __name__ == "__main__":
    main()
