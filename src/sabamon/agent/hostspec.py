"""The host spec body of `POST /api/v0/hosts` and `PUT /api/v0/hosts/{id}`: name, meta
(agent, kernel, cpu, memory, block devices, filesystems, cloud), interfaces, roles, checks."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sabamon import __version__
from sabamon.agent.cloud import CloudEndpoints, CloudInfo, detect_cloud
from sabamon.agent.metrics.filesystem import read_filesystems
from sabamon.agent.metrics.memory import parse_meminfo
from sabamon.agent.netaddr import interface_addresses

log = logging.getLogger(__name__)

_CPUINFO_KEYS = {
    "vendor_id": "vendor_id",
    "model": "model",
    "stepping": "stepping",
    "physical id": "physical_id",
    "core id": "core_id",
    "cache size": "cache_size",
    "model name": "model_name",
    "cpu family": "family",
    "cpu cores": "cores",
    "cpu MHz": "mhz",
}
_MEMINFO_KEYS = {
    "MemTotal": "total",
    "MemFree": "free",
    "Buffers": "buffers",
    "Cached": "cached",
    "Active": "active",
    "Inactive": "inactive",
    "Dirty": "dirty",
    "Writeback": "writeback",
    "AnonPages": "anon_pages",
    "Mapped": "mapped",
    "Slab": "slab",
    "SReclaimable": "slab_reclaimable",
    "SUnreclaim": "slab_unreclaim",
    "PageTables": "page_tables",
    "CommitLimit": "commit_limit",
    "Committed_AS": "committed_as",
    "VmallocTotal": "vmalloc_total",
    "VmallocUsed": "vmalloc_used",
    "VmallocChunk": "vmalloc_chunk",
    "SwapCached": "swap_cached",
    "SwapTotal": "swap_total",
    "SwapFree": "swap_free",
    "HighTotal": "high_total",
    "HighFree": "high_free",
    "LowTotal": "low_total",
    "LowFree": "low_free",
    "NFS_Unstable": "nfs_unstable",
    "Bounce": "bounce",
}
_BLOCK_FILES = ("size", "removable")
_BLOCK_DEVICE_FILES = ("model", "rev", "state", "timeout", "vendor")
_OS_RELEASE = (Path("/etc/os-release"), Path("/usr/lib/os-release"))


@dataclass(frozen=True, kw_only=True)
class HostSpecOptions:
    display_name: str | None = None
    role_fullnames: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "memo"?}]
    cloud_platform: str = "auto"
    agent_version: str = __version__
    proc_root: Path = Path("/proc")
    sys_root: Path = Path("/sys")
    cloud_endpoints: CloudEndpoints = field(default_factory=CloudEndpoints)


def build_host_spec(opts: HostSpecOptions) -> dict[str, Any]:
    """The exact request body; a meta section that cannot be read is left out, logged."""
    cloud = detect_cloud(
        opts.cloud_platform, sys_root=opts.sys_root, endpoints=opts.cloud_endpoints
    )
    spec: dict[str, Any] = {"name": socket.gethostname()}
    if opts.display_name:
        spec["displayName"] = opts.display_name
    if cloud:
        spec["customIdentifier"] = cloud.custom_identifier
    spec["meta"] = host_meta(opts, cloud)
    spec["interfaces"] = interfaces(opts.sys_root)
    spec["roleFullnames"] = list(opts.role_fullnames)
    spec["checks"] = [dict(check) for check in opts.checks]
    return spec


def host_meta(opts: HostSpecOptions, cloud: CloudInfo | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "agent-version": opts.agent_version,
        "agent-name": f"sabamon-agent/{opts.agent_version}",
    }
    sections: dict[str, Callable[[], Any]] = {
        "kernel": kernel_meta,
        "cpu": lambda: cpu_meta((opts.proc_root / "cpuinfo").read_text()),
        "memory": lambda: memory_meta((opts.proc_root / "meminfo").read_text()),
        "block_device": lambda: block_device_meta(opts.sys_root),
        "filesystem": lambda: filesystem_meta(opts.proc_root),
    }
    for key, build in sections.items():
        try:
            section = build()
        except (OSError, ValueError) as error:
            log.warning("event=host_meta_failed section=%s error=%r", key, error)
            continue
        if section:
            meta[key] = section
    if cloud:
        meta["cloud"] = {"provider": cloud.provider, "metadata": cloud.metadata}
    return meta


def kernel_meta() -> dict[str, str]:
    """`uname -s/-r/-v/-m/-o` and the distribution from os-release."""
    uname = os.uname()
    kernel = {
        "name": uname.sysname,
        "release": uname.release,
        "version": uname.version,
        "machine": uname.machine,
        "os": _uname_os() or uname.sysname,
    }
    release = _os_release()
    name = release.get("NAME", "").removesuffix(" GNU/Linux").removesuffix(" Linux")
    kernel["platform_name"] = name
    kernel["platform_version"] = release.get("VERSION_ID", "")
    return {key: value for key, value in kernel.items() if value}


def _uname_os() -> str:
    try:
        done = subprocess.run(["uname", "-o"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _os_release() -> dict[str, str]:
    for path in _OS_RELEASE:
        try:
            text = path.read_text()
        except OSError:
            continue
        pairs = (line.partition("=") for line in text.splitlines() if "=" in line)
        return {key.strip(): value.strip().strip("\"'") for key, _, value in pairs}
    return {}


def cpu_meta(cpuinfo: str) -> list[dict[str, str]]:
    """One entry per logical CPU (blank-line-separated block of /proc/cpuinfo)."""
    cpus: list[dict[str, str]] = []
    for block in cpuinfo.strip().split("\n\n"):
        cpu: dict[str, str] = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            name = _CPUINFO_KEYS.get(key.strip())
            if name and value.strip():
                cpu[name] = value.strip()
        if cpu:
            cpus.append(cpu)
    return cpus


def memory_meta(meminfo: str) -> dict[str, str]:
    """/proc/meminfo entries as `"3916792kB"` under snake_case keys."""
    entries = parse_meminfo(meminfo)
    return {name: f"{entries[key]}kB" for key, name in _MEMINFO_KEYS.items() if key in entries}


def block_device_meta(sys_root: Path) -> dict[str, dict[str, str]]:
    """`{dev: {size, removable, model, rev, state, timeout, vendor}}` from /sys/block."""
    devices: dict[str, dict[str, str]] = {}
    block = sys_root / "block"
    for device in sorted(block.iterdir()) if block.is_dir() else []:
        paths = [(name, device / name) for name in _BLOCK_FILES]
        paths += [(name, device / "device" / name) for name in _BLOCK_DEVICE_FILES]
        attributes = {}
        for name, path in paths:
            try:
                value = path.read_text(errors="replace").strip()
            except OSError:
                continue
            if value:
                attributes[name] = value
        devices[device.name] = attributes
    return devices


def filesystem_meta(proc_root: Path) -> dict[str, dict[str, Any]]:
    """Every filesystem `df -Pkl` lists, keyed by its df name."""
    return {
        entry.name: {
            "kb_size": entry.kb_size,
            "kb_used": entry.kb_used,
            "kb_available": entry.kb_available,
            "percent_used": f"{entry.percent_used}%",
            "mount": entry.mount,
        }
        for entry in read_filesystems(proc_root)
    }


def interfaces(sys_root: Path = Path("/sys")) -> list[dict[str, Any]]:
    """`[{name, ipv4Addresses, ipv6Addresses, macAddress}]`; interfaces with no address or
    only loopback addresses are dropped."""
    result = []
    for interface in interface_addresses(sys_root):
        ipv6 = [address.split("%")[0] for address in interface.ipv6]
        ips = interface.ipv4 + ipv6
        if not ips or all(ipaddress.ip_address(ip).is_loopback for ip in ips):
            continue
        entry: dict[str, Any] = {
            "name": interface.name,
            "ipv4Addresses": interface.ipv4,
            "ipv6Addresses": ipv6,
        }
        if interface.mac:
            entry["macAddress"] = interface.mac
        result.append(entry)
    return result


def find_cloud_custom_identifier(
    cloud_platform: str,
    *,
    sys_root: Path = Path("/sys"),
    endpoints: CloudEndpoints | None = None,
) -> str | None:
    """The host's cloud custom identifier (`<instance-id>.ec2.amazonaws.com`, ...), if any."""
    info = detect_cloud(cloud_platform, sys_root=sys_root, endpoints=endpoints)
    return info.custom_identifier if info else None
