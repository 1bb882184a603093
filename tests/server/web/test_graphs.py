"""Grouping metric names into graphs: system graphs, definitions with `*` and `#`, prefixes."""

from __future__ import annotations

from sabamon.server.store.records import GraphDef
from sabamon.server.web.data import align, step_for_span
from sabamon.server.web.graphs import host_graphs, match_pattern, service_graphs


def ids(graphs: list) -> list[str]:  # type: ignore[type-arg]
    return [g.id for g in graphs]


def test_system_graphs_by_device() -> None:
    names = [
        "loadavg5",
        "cpu.idle.percentage",
        "cpu.user.percentage",
        "memory.used",
        "memory.mem_available",
        "memory.total",
        "memory.swap_total",
        "disk.sda.reads.delta",
        "disk.sda.writes.delta",
        "disk.nvme0n1.reads.delta",
        "interface.eth0.rxBytes.delta",
        "filesystem.sda1.size",
        "filesystem.sda1.used",
    ]
    graphs = host_graphs(names, [])
    assert ids(graphs) == [
        "loadavg",
        "cpu",
        "memory",
        "swap",
        "disk.nvme0n1",
        "disk.sda",
        "interface.eth0",
        "filesystem.sda1",
    ]
    cpu, memory = graphs[1], graphs[2]
    assert [s.label for s in cpu.series] == ["user", "idle"] and cpu.unit == "percentage"
    assert [(s.label, s.stacked) for s in memory.series] == [
        ("used", True),
        ("mem_available", True),
        ("total", False),
    ]


def test_star_gathers_and_hash_splits() -> None:
    defs = [
        GraphDef("custom.db.*", "DB", "iops", [{"name": "custom.db.*.qps", "isStacked": False}]),
        GraphDef(
            "custom.queue.#",
            None,
            "integer",
            [{"name": "custom.queue.#.waiting", "displayName": "%1 waits", "isStacked": True}],
        ),
    ]
    names = [
        "custom.db.main.qps",
        "custom.db.replica.qps",
        "custom.queue.a.waiting",
        "custom.queue.b.waiting",
        "custom.other.x",
        "custom.other.y",
        "custom.solo",
    ]
    graphs = host_graphs(names, defs)
    assert ids(graphs) == [
        "custom.db.*",
        "custom.queue.a",
        "custom.queue.b",
        "custom",
        "custom.other",
    ]
    assert [s.label for s in graphs[0].series] == ["main.qps", "replica.qps"]
    assert graphs[0].unit == "iops" and graphs[0].title == "DB"
    assert graphs[1].series[0].label == "a waits" and graphs[1].series[0].stacked
    assert graphs[4].title == "custom.other.*" and graphs[4].unit == "float"


def test_match_pattern_is_segment_wise() -> None:
    assert match_pattern("custom.a.*.b", "custom.a.x-1.b") == ("x-1",)
    assert match_pattern("custom.a.*.b", "custom.a.x.y.b") is None
    assert match_pattern("custom.a.#", "custom.b.x") is None


def test_service_graphs_hide_internal_metrics() -> None:
    graphs = service_graphs(["orders.count", "orders.sum", "__externalhttp.responsetime.x"], [])
    assert ids(graphs) == ["orders"]


def test_step_thresholds_and_gaps() -> None:
    assert [step_for_span(s) for s in (72000, 72001, 864000, 864001, 240 * 86400 + 1)] == [
        60,
        300,
        300,
        3600,
        86400,
    ]
    times, values = align([[(0, 1.0), (60, 2.0), (300, 3.0)], None, [(60, 5.0)]], 60)
    assert times == [0, 60, 120, 300]
    assert values == [[1.0, 2.0, None, 3.0], [None] * 4, [None, 5.0, None, None]]
