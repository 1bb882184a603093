"""Filesystem size and usage: `filesystem.<dev>.size` and `filesystem.<dev>.used` in bytes.

The listing matches `df -Pkl` (checked against df by a live test) but comes from statvfs(2)
over /proc/mounts: df costs a fork and exec each minute, about ten times the CPU.
Like df without `-a`, it leaves out pseudo and remote filesystems, those of size zero, and
repeated mounts of one device (the shortest mount path stays).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from sabamon.agent.metrics.base import Value
from sabamon.agent.metrics.names import sanitize_name
from sabamon.agent.metrics.procfs import read_proc

log = logging.getLogger(__name__)

# coreutils' ME_DUMMY and ME_REMOTE types (df hides these without -a, and with -l).
_PSEUDO_TYPES = frozenset(
    [
        "autofs",
        "proc",
        "subfs",
        "debugfs",
        "devpts",
        "fusectl",
        "fuse.portal",
        "mqueue",
        "rpc_pipefs",
        "sysfs",
        "devfs",
        "kernfs",
        "ignore",
        "none",
    ]
)
_REMOTE_TYPES = frozenset(
    ["acfs", "afs", "coda", "auristorfs", "fhgfs", "gpfs", "ibrix", "ocfs2", "vxfs"]
)
_SMB_TYPES = frozenset(("smbfs", "smb3", "cifs"))
_MOUNTS_ESCAPE = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True, slots=True)
class DfEntry:
    """One row of `df -Pkl`: sizes in KiB, rounded up as df does."""

    name: str
    kb_size: int
    kb_used: int
    kb_available: int
    mount: str

    @property
    def percent_used(self) -> int:
        """df's Capacity column, rounded up."""
        usable = self.kb_used + self.kb_available
        return -(-self.kb_used * 100 // usable) if usable else 0


def _unescape(field: str) -> str:
    return _MOUNTS_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), field)


def _is_remote(device: str, fs_type: str) -> bool:
    return (
        ":" in device
        or (device.startswith("//") and fs_type in _SMB_TYPES)
        or fs_type in _REMOTE_TYPES
        or device == "-hosts"
    )


def _kib(blocks: int, block_size: int) -> int:
    return -(-blocks * block_size // 1024)


def read_filesystems(
    proc_root: Path = Path("/proc"), *, devices_only: bool = False
) -> list[DfEntry]:
    """The local filesystems `df -Pkl` would list, in mount order; with `devices_only`, those
    of them on a `/dev/` device, the only ones metrics are named after. A device's other
    mounts carry its name too, so the choice among them is df's; the statvfs of every cgroup,
    tmpfs or overlay mount is spared (measured with 16 such mounts: 58 µs instead of 118 µs)."""
    by_device: dict[int, tuple[DfEntry, int]] = {}
    for line in read_proc(proc_root / "mounts").splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        device, mount, fs_type = _unescape(fields[0]), _unescape(fields[1]), fields[2]
        if fs_type in _PSEUDO_TYPES or _is_remote(device, fs_type):
            continue
        if devices_only and not device.startswith("/dev/"):
            continue
        try:
            usage = os.statvfs(mount)
            device_id = os.stat(mount).st_dev
        except OSError as error:
            log.debug("event=statvfs_failed mount=%s error=%s", mount, error)
            continue
        if usage.f_blocks == 0:
            continue
        entry = DfEntry(
            name=device,
            kb_size=_kib(usage.f_blocks, usage.f_frsize),
            kb_used=_kib(usage.f_blocks - usage.f_bfree, usage.f_frsize),
            kb_available=_kib(usage.f_bavail, usage.f_frsize),
            mount=mount,
        )
        order = len(by_device)
        if device_id in by_device:
            kept, order = by_device[device_id]
            if _keeps_earlier(kept, entry):
                continue
        by_device[device_id] = (entry, order)
    return [entry for entry, _ in sorted(by_device.values(), key=lambda pair: pair[1])]


def _keeps_earlier(earlier: DfEntry, later: DfEntry) -> bool:
    """df's choice between two mounts of one device: a real device path over a bare name,
    then the shorter mount path; a later mount on the same path hides the earlier one."""
    if ("/" in earlier.name) != ("/" in later.name):
        return "/" in earlier.name
    return len(earlier.mount) < len(later.mount)


def filesystem_values(
    entries: list[DfEntry], ignore: re.Pattern[str] | None = None, use_mountpoint: bool = False
) -> list[Value]:
    """`size = (used + available) × 1024`, `used = used × 1024` for `/dev/*` filesystems,
    named by the device without `/dev/` (or the mountpoint), sanitised. Docker's
    devicemapper volumes and names matching `ignore` (raw df name) are skipped."""
    values: list[Value] = []
    for entry in entries:
        if not entry.name.startswith("/dev/") or _is_docker_volume(entry):
            continue
        if ignore is not None and ignore.search(entry.name):
            continue
        key = sanitize_name(entry.mount if use_mountpoint else entry.name.removeprefix("/dev/"))
        values.append(
            Value(f"filesystem.{key}.size", (entry.kb_used + entry.kb_available) * 1024.0)
        )
        values.append(Value(f"filesystem.{key}.used", entry.kb_used * 1024.0))
    return values


def _is_docker_volume(entry: DfEntry) -> bool:
    return entry.name.startswith("/dev/mapper/docker-") or (
        entry.name.startswith("/dev/dm-") and "devicemapper/mnt" in entry.mount
    )


class FilesystemCollector:
    """Emits `filesystem.<dev>.size` and `filesystem.<dev>.used`."""

    name = "filesystem"
    custom_identifier: str | None = None

    def __init__(
        self,
        proc_root: Path = Path("/proc"),
        ignore: re.Pattern[str] | None = None,
        use_mountpoint: bool = False,
    ) -> None:
        self._proc_root = proc_root
        self._ignore = ignore
        self._use_mountpoint = use_mountpoint

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        entries = read_filesystems(self._proc_root, devices_only=True)
        return filesystem_values(entries, self._ignore, self._use_mountpoint)
