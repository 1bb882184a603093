"""What the hosts list and the host summary show, computed from a host and its latest points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sabamon.server.store.records import Host

from .graphs import CPU_ORDER

CPU_METRICS = tuple(f"cpu.{field}.percentage" for field in CPU_ORDER)
GLANCE_METRICS = ("loadavg5", "memory.used", "memory.total", *CPU_METRICS)
Latest = dict[str, tuple[int, float] | None]


@dataclass(frozen=True)
class HostRow:
    host: Host
    loadavg5: float | None
    cpu_percent: float | None
    memory_percent: float | None
    last_seen: int | None


def _value(latest: Latest, name: str) -> float | None:
    point = latest.get(name)
    return None if point is None else point[1]


def host_row(host: Host, latest: Latest) -> HostRow:
    """CPU % is the busy share of all CPUs (the agent posts 0..100×ncpu per field)."""
    cpu = [v for name in CPU_METRICS if (v := _value(latest, name)) is not None]
    idle = _value(latest, "cpu.idle.percentage")
    cpu_percent = 100 - idle * 100 / sum(cpu) if idle is not None and sum(cpu) > 0 else None
    used, total = _value(latest, "memory.used"), _value(latest, "memory.total")
    memory_percent = used * 100 / total if used is not None and total else None
    times = [point[0] for point in latest.values() if point is not None]
    return HostRow(
        host, _value(latest, "loadavg5"), cpu_percent, memory_percent, max(times, default=None)
    )


@dataclass(frozen=True)
class HostSummary:
    os: str
    kernel: str
    cpus: int
    cpu_model: str
    memory_total: float | None
    disks: list[tuple[str, float | None]]  # (device, bytes)
    interfaces: list[tuple[str, str]]
    agent: str


def _kib(text: Any) -> float | None:
    """The agent writes /proc/meminfo sizes as "3916792kB"."""
    if isinstance(text, str) and text.endswith("kB") and text[:-2].strip().isdigit():
        return int(text[:-2]) * 1024.0
    return None


SECTOR = 512
"""/sys/block/<dev>/size counts 512-byte sectors whatever the device's own sector size."""
HIDDEN_DEVICES = ("loop", "ram", "zram")


def block_devices(block: Any) -> list[tuple[str, float | None]]:
    """(device, size in bytes) from the agent's `block_device` spec, whose sizes are
    sector counts; loop, ram and zero-size devices are left out."""
    if not isinstance(block, dict):
        return []
    out: list[tuple[str, float | None]] = []
    for name, info in sorted(block.items()):
        raw = str(info.get("size", "")) if isinstance(info, dict) else ""
        size = int(raw) * SECTOR if raw.isdigit() else None
        if str(name).startswith(HIDDEN_DEVICES) or size == 0:
            continue
        out.append((str(name), size))
    return out


def host_summary(host: Host) -> HostSummary:
    meta = host.meta if isinstance(host.meta, dict) else {}
    kernel = meta.get("kernel") or {}
    cpus = meta.get("cpu") or []
    block = meta.get("block_device") or {}
    platform = " ".join(
        str(kernel.get(key, "")) for key in ("platform_name", "platform_version")
    ).strip()
    disks = block_devices(block)
    interfaces = [
        (
            str(iface.get("name", "")),
            ", ".join(iface.get("ipv4Addresses") or [iface.get("ipAddress") or ""]),
        )
        for iface in host.interfaces
        if isinstance(iface, dict)
    ]
    first_cpu = cpus[0] if cpus and isinstance(cpus[0], dict) else {}
    return HostSummary(
        os=platform or str(kernel.get("os", "")) or "—",
        kernel=" ".join(str(kernel.get(k, "")) for k in ("name", "release", "machine")).strip(),
        cpus=len(cpus),
        cpu_model=str(first_cpu.get("model_name", "")),
        memory_total=_kib((meta.get("memory") or {}).get("total")),
        disks=disks,
        interfaces=interfaces,
        agent=str(meta.get("agent-name", "")),
    )
