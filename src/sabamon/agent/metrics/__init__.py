"""The agent's Linux system collectors, built from the config's ignore options."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sabamon.agent.metrics.base import MetricGenerator
from sabamon.agent.metrics.cpu import CpuCollector
from sabamon.agent.metrics.disk import DiskCollector
from sabamon.agent.metrics.filesystem import FilesystemCollector
from sabamon.agent.metrics.interface import InterfaceCollector
from sabamon.agent.metrics.loadavg import LoadavgCollector
from sabamon.agent.metrics.memory import MemoryCollector


@dataclass(frozen=True)
class CollectorOptions:
    """The `[filesystems]`, `[disks]` and `[interfaces]` config keys, and where to read."""

    filesystems_ignore: re.Pattern[str] | None = None
    filesystems_use_mountpoint: bool = False
    disks_ignore: re.Pattern[str] | None = None
    interfaces_ignore: re.Pattern[str] | None = None
    proc_root: Path = Path("/proc")
    sys_root: Path = Path("/sys")


def linux_generators(options: CollectorOptions) -> list[MetricGenerator]:
    """The system collectors, in the order their values are posted."""
    proc = options.proc_root
    return [
        LoadavgCollector(proc),
        CpuCollector(proc),
        MemoryCollector(proc),
        DiskCollector(proc, options.disks_ignore, options.filesystems_use_mountpoint),
        InterfaceCollector(proc, options.interfaces_ignore),
        FilesystemCollector(proc, options.filesystems_ignore, options.filesystems_use_mountpoint),
    ]
