"""Which graphs a host or service has: metric names grouped into graph specs.

System metrics (agent spec §4) get fixed graphs: load average, CPU stacked %, memory
stacked bytes, swap, and one graph per disk, interface and filesystem device. Custom
metrics follow the graph definitions (API spec §3): a `*` segment gathers every match
into one graph, a `#` segment makes one graph per matched value (the value names the
graph), and `%1`, `%2` in a metric's display name insert the matched segments. Metrics no
definition claims are grouped by their name up to the last dot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sabamon.server.store.records import GraphDef


@dataclass(frozen=True)
class SeriesSpec:
    """One line: `metric` of the graph's owner, or of `host` (a role graph's line per host,
    coloured by the host's name instead of the metric's)."""

    metric: str
    label: str
    stacked: bool = False
    host: str | None = None


@dataclass(frozen=True)
class GraphSpec:
    id: str
    title: str
    unit: str
    series: tuple[SeriesSpec, ...]


CPU_ORDER = ("user", "nice", "system", "iowait", "irq", "softirq", "steal", "guest", "idle")
MEMORY_STACK = ("used", "buffers", "cached", "free", "mem_available")
SWAP_METRICS = ("swap_cached", "swap_free", "swap_total")
DEVICE_GRAPHS = {
    # prefix: (title, unit, {metric suffix: series label})
    "disk": ("Disk I/O", "iops", {"reads.delta": "read", "writes.delta": "write"}),
    "interface": (
        "Interface",
        "bytes/sec",
        {"rxBytes.delta": "rx", "txBytes.delta": "tx"},
    ),
    "filesystem": ("Filesystem", "bytes", {"used": "used", "size": "size"}),
}
_SEGMENT = re.compile(r"[-a-zA-Z0-9_]+")


def _system_graphs(names: set[str]) -> tuple[list[GraphSpec], set[str]]:
    graphs: list[GraphSpec] = []
    claimed: set[str] = set()

    def add(id_: str, title: str, unit: str, series: list[SeriesSpec]) -> None:
        if series:
            graphs.append(GraphSpec(id_, title, unit, tuple(series)))
            claimed.update(s.metric for s in series)

    load = [SeriesSpec(f"loadavg{n}", f"loadavg{n}") for n in (1, 5, 15)]
    add("loadavg", "Load average", "float", [s for s in load if s.metric in names])
    cpu = [f"cpu.{field}.percentage" for field in CPU_ORDER]
    add("cpu", "CPU", "percentage", [SeriesSpec(m, m[4:-11], True) for m in cpu if m in names])
    memory = [SeriesSpec(f"memory.{m}", m, True) for m in MEMORY_STACK]
    memory += [SeriesSpec("memory.total", "total")]
    add("memory", "Memory", "bytes", [s for s in memory if s.metric in names])
    swap = [SeriesSpec(f"memory.{m}", m) for m in SWAP_METRICS]
    add("swap", "Swap", "bytes", [s for s in swap if s.metric in names])

    for prefix, (title, unit, suffixes) in DEVICE_GRAPHS.items():
        devices = sorted(
            {
                name[len(prefix) + 1 : -len(suffix) - 1]
                for name in names
                for suffix in suffixes
                if name.startswith(prefix + ".") and name.endswith("." + suffix)
            }
        )
        for device in devices:
            series = [
                SeriesSpec(f"{prefix}.{device}.{suffix}", label)
                for suffix, label in suffixes.items()
                if f"{prefix}.{device}.{suffix}" in names
            ]
            add(f"{prefix}.{device}", f"{title} {device}", unit, series)
    return graphs, claimed


def match_pattern(pattern: str, name: str) -> tuple[str, ...] | None:
    """The segments a `*`/`#` pattern captured from `name`, or None if it does not match."""
    pattern_parts, name_parts = pattern.split("."), name.split(".")
    if len(pattern_parts) != len(name_parts):
        return None
    captured: list[str] = []
    for want, got in zip(pattern_parts, name_parts, strict=True):
        if want in ("*", "#"):
            if not _SEGMENT.fullmatch(got):
                return None
            captured.append(got)
        elif want != got:
            return None
    return tuple(captured)


def _label(display_name: str | None, pattern: str, name: str, captured: Sequence[str]) -> str:
    """The display name with %N filled in, else the `*` segments and the last one (a `#`
    segment already names the graph)."""
    if display_name:
        label = display_name
        for index, value in reversed(list(enumerate(captured, start=1))):
            label = label.replace(f"%{index}", value)
        return label
    pattern_parts, name_parts = pattern.split("."), name.split(".")
    kept = [
        got
        for position, (want, got) in enumerate(zip(pattern_parts, name_parts, strict=True))
        if want == "*" or position == len(name_parts) - 1
    ]
    return ".".join(kept)


class _NameTree:
    """Metric names as a tree of their dot-separated segments: a pattern walks only the
    branches its literal segments name (every branch at a `*` or `#`), so matching one
    pattern costs about its candidates, not every name of the host."""

    def __init__(self, names: Iterable[str]) -> None:
        self.children: dict[str, _NameTree] = {}
        self.name: str | None = None  # the name ending at this node
        for name in names:
            node = self
            for segment in name.split("."):
                node = node.children.setdefault(segment, _NameTree(()))
            node.name = name

    def candidates(self, pattern: str) -> list[str]:
        """The names with the pattern's literal segments where it has them, sorted."""
        nodes = [self]
        for want in pattern.split("."):
            if want in ("*", "#"):
                nodes = [child for node in nodes for child in node.children.values()]
            else:
                nodes = [node.children[want] for node in nodes if want in node.children]
        return sorted(node.name for node in nodes if node.name is not None)


def _defined_graphs(
    names: Iterable[str], defs: Sequence[GraphDef]
) -> tuple[list[GraphSpec], set[str]]:
    """Each definition's graphs (by definition name), and the names they claimed; a name
    goes to the first definition (by name) and metric pattern that match it, taken in name
    order. The names are indexed once per view (`_NameTree`), not scanned and sorted again
    for each definition's metric: an organisation may hold 5,000 definitions."""
    grouped: dict[str, tuple[GraphDef, str, list[SeriesSpec]]] = {}
    claimed: set[str] = set()
    tree = _NameTree(names)
    for graph_def in sorted(defs, key=lambda d: d.name):
        hash_index = graph_def.name.split(".").index("#") if "#" in graph_def.name else None
        for metric in graph_def.metrics:
            for name in tree.candidates(metric["name"]):
                captured = match_pattern(metric["name"], name)
                if name in claimed or captured is None:
                    continue
                graph_id, title = graph_def.name, graph_def.display_name or graph_def.name
                if hash_index is not None:
                    value = name.split(".")[hash_index]
                    graph_id, title = graph_def.name.replace("#", value, 1), f"{title} ({value})"
                label = _label(metric.get("displayName"), metric["name"], name, captured)
                series = SeriesSpec(name, label, bool(metric.get("isStacked")))
                grouped.setdefault(graph_id, (graph_def, title, []))[2].append(series)
                claimed.add(name)
    graphs = [
        GraphSpec(graph_id, title, graph_def.unit or "float", tuple(series))
        for graph_id, (graph_def, title, series) in sorted(grouped.items())
    ]
    return graphs, claimed


def _prefix_graphs(names: Iterable[str]) -> list[GraphSpec]:
    groups: dict[str, list[SeriesSpec]] = {}
    for name in sorted(names):
        prefix, _, last = name.rpartition(".")
        groups.setdefault(prefix or name, []).append(SeriesSpec(name, last or name))
    return [
        GraphSpec(prefix, f"{prefix}.*", "float", tuple(series))
        for prefix, series in sorted(groups.items())
    ]


def host_graphs(metric_names: Iterable[str], defs: Sequence[GraphDef]) -> list[GraphSpec]:
    """System graphs first, then custom graphs by definition, then the rest by prefix."""
    names = set(metric_names)
    system, claimed = _system_graphs(names)
    custom = {name for name in names - claimed if name.startswith("custom.")}
    defined, claimed_custom = _defined_graphs(custom, defs)
    rest = names - claimed - claimed_custom
    return system + defined + _prefix_graphs(rest)


def service_graphs(metric_names: Iterable[str], defs: Sequence[GraphDef]) -> list[GraphSpec]:
    """Service metrics: graphs by definition where one matches, else by name prefix."""
    names = {name for name in metric_names if not name.startswith("__")}
    defined, claimed = _defined_graphs(names, defs)
    return defined + _prefix_graphs(names - claimed)


ROLE_GRAPHS = {
    # metric: (title, unit): the graphs of a role, one line per host (Mackerel's role graphs)
    "loadavg5": ("Load average (5 min)", "float"),
    "cpu.user.percentage": ("CPU user", "percentage"),
    "memory.used": ("Memory used", "bytes"),
}
MAX_ROLE_HOSTS = 30
"""Lines in one role graph; a bigger role shows its first hosts by name."""


def role_graph(metric: str, hosts: Sequence[tuple[str, str]]) -> GraphSpec | None:
    """The role graph of `metric` over `hosts` ((id, name) pairs), None for other metrics."""
    if metric not in ROLE_GRAPHS:
        return None
    title, unit = ROLE_GRAPHS[metric]
    lines = [SeriesSpec(metric, name, host=host_id) for host_id, name in hosts[:MAX_ROLE_HOSTS]]
    return GraphSpec(metric, title, unit, tuple(lines))


def find_graph(graphs: Sequence[GraphSpec], graph_id: str) -> GraphSpec | None:
    return next((graph for graph in graphs if graph.id == graph_id), None)
