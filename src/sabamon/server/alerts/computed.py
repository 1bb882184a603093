"""Host series for a monitor's `metric`: a posted metric, or one computed from the agent's
metrics like Mackerel's `cpu%`, `memory%`, `disk%` and `swap%` (all 0–100)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

Series = list[tuple[int, float]]
Points = dict[tuple[str, str], Series]

_CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
COMPONENTS: dict[str, tuple[str, ...]] = {
    "cpu%": tuple(f"cpu.{f}.percentage" for f in _CPU_FIELDS),
    "memory%": ("memory.used", "memory.total"),
    "swap%": ("memory.swap_total", "memory.swap_free"),
    "disk%": ("filesystem.*.used", "filesystem.*.size"),
}


def metric_names(metric: str) -> tuple[str, ...]:
    """The posted names a monitor on `metric` reads."""
    return COMPONENTS.get(metric, (metric,))


def _by_time(points: Points, host_id: str, names: tuple[str, ...]) -> dict[int, dict[str, float]]:
    table: dict[int, dict[str, float]] = defaultdict(dict)
    for name in names:
        for time, value in points.get((host_id, name), ()):
            table[time][name] = value
    return table


def _cpu(row: dict[str, float]) -> float | None:
    total = sum(row.values())
    if "cpu.idle.percentage" not in row or total <= 0:
        return None
    return 100.0 * (1.0 - row["cpu.idle.percentage"] / total)


def _ratio(
    used: str, total: str, *, free: bool = False
) -> Callable[[dict[str, float]], float | None]:
    def compute(row: dict[str, float]) -> float | None:
        if used not in row or not row.get(total):
            return None
        part = row[total] - row[used] if free else row[used]
        return 100.0 * part / row[total]

    return compute


_COMPUTE: dict[str, Callable[[dict[str, float]], float | None]] = {
    "cpu%": _cpu,
    "memory%": _ratio("memory.used", "memory.total"),
    "swap%": _ratio("memory.swap_free", "memory.swap_total", free=True),
}


def _disk(points: Points, host_id: str, filesystems: list[str]) -> Series:
    """The fullest filesystem at each time."""
    worst: dict[int, float] = {}
    for fs in filesystems:
        sizes = dict(points.get((host_id, f"filesystem.{fs}.size"), ()))
        for time, used in points.get((host_id, f"filesystem.{fs}.used"), ()):
            if sizes.get(time):
                worst[time] = max(worst.get(time, 0.0), 100.0 * used / sizes[time])
    return sorted(worst.items())


def host_series(points: Points, host_id: str, metric: str, filesystems: list[str]) -> Series:
    """The series of `metric` for one host, ascending (`filesystems`: for `disk%`)."""
    if metric == "disk%":
        return _disk(points, host_id, filesystems)
    compute = _COMPUTE.get(metric)
    if compute is None:
        return list(points.get((host_id, metric), ()))
    out = []
    for time, row in sorted(_by_time(points, host_id, COMPONENTS[metric]).items()):
        value = compute(row)
        if value is not None:
            out.append((time, value))
    return out


def filesystems_by_host(points: Points) -> dict[str, list[str]]:
    """{host: [filesystem device]} seen in `filesystem.<dev>.size` points."""
    out: dict[str, list[str]] = defaultdict(list)
    for host_id, name in points:
        if name.startswith("filesystem.") and name.endswith(".size"):
            out[host_id].append(name[len("filesystem.") : -len(".size")])
    return out
