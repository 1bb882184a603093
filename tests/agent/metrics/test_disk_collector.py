import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sabamon.agent.metrics.disk import DiskCollector, disk_rates, parse_diskstats


def test_parse_skips_dm_zero_devices_and_a_short_line(
    sample: Callable[[str], str],
) -> None:
    counts = parse_diskstats(sample("diskstats.1"))
    # loop*, zram0 are all zero; dm-0 is device-mapper; the short sda1 line costs only itself.
    assert list(counts) == ["vda", "sda", "sdb"]
    assert counts["sdb"] == (1641, 6365)
    assert counts["vda"] == (63184, 30873)  # 4.18+ line with 17 fields: columns 4 and 8
    assert counts["sda"] == (750193, 16600606)


def test_rates_by_hand(sample: Callable[[str], str]) -> None:
    prev = parse_diskstats(sample("diskstats.1"))
    cur = parse_diskstats(sample("diskstats.2"))
    values = {value.name: value.value for value in disk_rates(prev, cur, 60.0)}
    assert values == {
        "disk.vda.reads.delta": 120 / 60,
        "disk.vda.writes.delta": 60 / 60,
        "disk.sda.reads.delta": 30 / 60,
        "disk.sda.writes.delta": -6 / 60,  # a counter going down is not guarded, as the original
        "disk.sdb.reads.delta": 0.0,
        "disk.sdb.writes.delta": 0.0,
    }


def test_ignore_matches_the_sanitised_device(sample: Callable[[str], str]) -> None:
    prev = parse_diskstats(sample("diskstats.1"))
    cur = parse_diskstats(sample("diskstats.2"))
    names = {v.name for v in disk_rates(prev, cur, 60.0, ignore=re.compile("^sd"))}
    assert names == {"disk.vda.reads.delta", "disk.vda.writes.delta"}


def test_mountpoint_names_mounted_devices(sample: Callable[[str], str]) -> None:
    prev = parse_diskstats(sample("diskstats.1"))
    cur = parse_diskstats(sample("diskstats.2"))
    names = {v.name for v in disk_rates(prev, cur, 60.0, mountpoints={"vda": "/"})}
    assert names == {
        "disk._.reads.delta",
        "disk._.writes.delta",
        "disk.sda.reads.delta",
        "disk.sda.writes.delta",
        "disk.sdb.reads.delta",
        "disk.sdb.writes.delta",
    }


def test_device_names_are_sanitised() -> None:
    line = "  8 0 {} 5 0 0 0 7 0 0 0 0 0 0\n"
    prev = parse_diskstats(line.format("cciss!c0d0"))
    cur = parse_diskstats(line.format("cciss!c0d0").replace(" 5 ", " 65 "))
    assert [v.name for v in disk_rates(prev, cur, 60.0)] == [
        "disk.cciss_c0d0.reads.delta",
        "disk.cciss_c0d0.writes.delta",
    ]


def test_live_disk_over_a_short_interval() -> None:
    values = DiskCollector(use_mountpoint=True).generate(0.05, threading.Event())
    for value in values:
        assert re.fullmatch(r"disk\.[A-Za-z0-9_-]+\.(reads|writes)\.delta", value.name)
        assert value.value >= 0


def test_stop_set_early_returns_at_once_with_every_device() -> None:
    stop = threading.Event()
    stop.set()
    started = time.monotonic()
    values = DiskCollector().generate(30.0, stop)
    assert time.monotonic() - started < 2
    devices = parse_diskstats(Path("/proc/diskstats").read_text())
    assert {value.name for value in values} == {
        f"disk.{device}.{kind}.delta" for device in devices for kind in ("reads", "writes")
    }
