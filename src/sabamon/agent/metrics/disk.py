"""Disk I/O per second from /proc/diskstats: `disk.<dev>.reads.delta` and
`disk.<dev>.writes.delta` (completed reads and writes)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sabamon.agent.metrics.badlines import skip_line
from sabamon.agent.metrics.base import Value
from sabamon.agent.metrics.delta import DeltaSampler
from sabamon.agent.metrics.filesystem import read_filesystems
from sabamon.agent.metrics.names import sanitize_name
from sabamon.agent.metrics.procfs import read_proc

_STAT_FIELDS = 11  # the fields every kernel has; 4.18+ appends more, which are ignored
_READS, _WRITES = 0, 4  # completed reads and writes, after major, minor and name

DiskCounts = dict[str, tuple[int, int]]


def parse_diskstats(text: str) -> DiskCounts:
    """`{device: (reads, writes)}`, leaving out `dm-*` and devices whose counters are all
    zero. A line without 11 integer stat fields is skipped and logged once."""
    counts: DiskCounts = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 + _STAT_FIELDS:
            if fields:
                skip_line("/proc/diskstats", line, f"expected {3 + _STAT_FIELDS} fields")
            continue
        device = fields[2]
        try:
            stats = [int(field) for field in fields[3 : 3 + _STAT_FIELDS]]
        except ValueError:
            skip_line("/proc/diskstats", line, "stat fields are not integers")
            continue
        if device.startswith("dm-") or not any(stats):
            continue
        counts[device] = (stats[_READS], stats[_WRITES])
    return counts


def disk_rates(
    prev: DiskCounts,
    cur: DiskCounts,
    seconds: float,
    ignore: re.Pattern[str] | None = None,
    mountpoints: dict[str, str] | None = None,
) -> list[Value]:
    """`(cur - prev) / seconds` per device present in both samples (no wrap guard, as the
    original). `ignore` matches the sanitised device name; with `mountpoints`
    (device → mount path) a mounted device is named by its sanitised mountpoint."""
    if seconds <= 0:
        return []
    values: list[Value] = []
    for device, (reads, writes) in cur.items():
        if device not in prev:
            continue
        name = sanitize_name(device)
        if ignore is not None and ignore.search(name):
            continue
        if mountpoints is not None and device in mountpoints:
            name = sanitize_name(mountpoints[device])
        prev_reads, prev_writes = prev[device]
        values.append(Value(f"disk.{name}.reads.delta", (reads - prev_reads) / seconds))
        values.append(Value(f"disk.{name}.writes.delta", (writes - prev_writes) / seconds))
    return values


class DiskCollector:
    """Emits `disk.<dev>.reads.delta` and `disk.<dev>.writes.delta` over one interval."""

    name = "disk"
    custom_identifier: str | None = None

    def __init__(
        self,
        proc_root: Path = Path("/proc"),
        ignore: re.Pattern[str] | None = None,
        use_mountpoint: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._proc_root = proc_root
        self._ignore = ignore
        self._use_mountpoint = use_mountpoint
        self._clock = clock
        self._samples = DeltaSampler(self.read, clock)

    def read(self) -> DiskCounts:
        return parse_diskstats(read_proc(self._proc_root / "diskstats"))

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        prev, cur, seconds = self._samples.pair(interval, stop)
        mountpoints = None
        if self._use_mountpoint:
            mountpoints = {
                entry.name.removeprefix("/dev/"): entry.mount
                for entry in read_filesystems(self._proc_root, devices_only=True)
            }
        return disk_rates(prev, cur, seconds, self._ignore, mountpoints)
