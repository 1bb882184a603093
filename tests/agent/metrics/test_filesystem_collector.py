import logging
import re
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from sabamon.agent.metrics.filesystem import (
    DfEntry,
    FilesystemCollector,
    filesystem_values,
    read_filesystems,
)

DfRows = Callable[[str], list[DfEntry]]


def test_only_dev_filesystems_without_docker_volumes(
    sample: Callable[[str], str], df_rows: DfRows
) -> None:
    values = {v.name: v.value for v in filesystem_values(df_rows(sample("df_pkl")))}
    assert values == {
        "filesystem.vda.size": (23465696 + 82925216) * 1024.0,
        "filesystem.vda.used": 23465696 * 1024.0,
        "filesystem.sda1.size": (1940824 + 7708604) * 1024.0,
        "filesystem.sda1.used": 1940824 * 1024.0,
        "filesystem.mapper_vg0-home.size": (10486344 + 38351100) * 1024.0,
        "filesystem.mapper_vg0-home.used": 10486344 * 1024.0,
        "filesystem.ram0.size": (4 + 61408) * 1024.0,
        "filesystem.ram0.used": 4 * 1024.0,
        # dm-4 is not on devicemapper/mnt, so it stays
        "filesystem.dm-4.size": (33056 + 2053856) * 1024.0,
        "filesystem.dm-4.used": 33056 * 1024.0,
    }


def test_ignore_matches_the_raw_df_name(sample: Callable[[str], str], df_rows: DfRows) -> None:
    entries = df_rows(sample("df_pkl"))
    values = filesystem_values(entries, ignore=re.compile(r"/dev/ram.*|mapper/"))
    assert {v.name.split(".")[1] for v in values} == {"vda", "sda1", "dm-4"}


def test_use_mountpoint(sample: Callable[[str], str], df_rows: DfRows) -> None:
    values = filesystem_values(df_rows(sample("df_pkl")), use_mountpoint=True)
    assert {v.name.split(".")[1] for v in values} == {
        "_",
        "_boot",
        "_home_data",
        "_mnt_ram",
        "_srv_dm4",
    }


def test_percent_used_rounds_up_as_df() -> None:
    assert DfEntry("/dev/x", 100, 1, 299, "/").percent_used == 1
    assert DfEntry("/dev/x", 100, 23465696, 82925216, "/").percent_used == 23
    assert DfEntry("/dev/x", 0, 0, 0, "/").percent_used == 0


def test_statvfs_listing_matches_df_on_this_machine(df_rows: DfRows) -> None:
    df = subprocess.run(["df", "-Pkl"], capture_output=True, text=True, timeout=15, check=True)
    ours = {entry.mount: entry for entry in read_filesystems()}
    theirs = {entry.mount: entry for entry in df_rows(df.stdout)}
    assert set(ours) == set(theirs)
    for mount, entry in theirs.items():
        mine = ours[mount]
        assert (mine.name, mine.kb_size) == (entry.name, entry.kb_size)
        # usage can move between the two reads; a few MiB of slack
        assert abs(mine.kb_used - entry.kb_used) < 8192, mount
        assert abs(mine.kb_available - entry.kb_available) < 8192, mount


def test_live_filesystem_names() -> None:
    values = FilesystemCollector().generate(0.0, threading.Event())
    by_name = {value.name: value.value for value in values}
    for name, value in by_name.items():
        assert re.fullmatch(r"filesystem\.[A-Za-z0-9_-]+\.(size|used)", name)
        assert value >= 0
    for name in [name for name in by_name if name.endswith(".size")]:
        assert by_name[name.removesuffix(".size") + ".used"] <= by_name[name]


def test_devices_only_is_the_dev_part_of_the_full_listing() -> None:
    every = [(e.name, e.mount) for e in read_filesystems() if e.name.startswith("/dev/")]
    assert [(e.name, e.mount) for e in read_filesystems(devices_only=True)] == every


def test_devices_only_reads_no_other_mount(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A mount of another kind is not even statvfs'd (this one would fail, and say so)."""
    (tmp_path / "mounts").write_text(
        "tmpfs /nonexistent/tmp tmpfs rw 0 0\n/dev/root / ext4 rw 0 0\n"
    )
    with caplog.at_level(logging.DEBUG, logger="sabamon.agent.metrics.filesystem"):
        assert [e.mount for e in read_filesystems(tmp_path, devices_only=True)] == ["/"]
        assert "statvfs_failed" not in caplog.text
        assert [e.mount for e in read_filesystems(tmp_path)] == ["/"]
        assert "event=statvfs_failed mount=/nonexistent/tmp" in caplog.text
