"""A /proc line a parser cannot read costs only itself: skipped, logged once, the other
lines read as usual."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sabamon.agent.metrics.cpu import parse_cpu_stat
from sabamon.agent.metrics.disk import parse_diskstats
from sabamon.agent.metrics.filesystem import read_filesystems
from sabamon.agent.metrics.interface import InterfaceCollector, interface_rates, parse_net_dev
from sabamon.agent.metrics.loadavg import parse_loadavg

NET_DEV_HEADER = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n"
)


def counters(rx: int, tx: int) -> str:
    return f"{rx} 0 0 0 0 0 0 0 {tx} 0 0 0 0 0 0 0"


def test_net_dev_splits_at_the_last_colon(caplog: pytest.LogCaptureFixture) -> None:
    text = NET_DEV_HEADER + (
        f"  eth0: {counters(100, 200)}\n"
        f"ibr10:30:       {counters(0, 0)}\n"
        f"    lo: {counters(5, 5)}\n"
        "  wlan0: 1 2 3\n"
        f"  eth1: {counters(7, 8)}\n"
        f"  bad0: x {counters(1, 2)[2:]}\n"
    )
    with caplog.at_level(logging.WARNING):
        counts = parse_net_dev(text)
        parse_net_dev(text)  # the same bad lines again: not logged again
    assert counts == {"eth0": (100, 200), "ibr10:30": (0, 0), "eth1": (7, 8)}
    skipped = [r.getMessage() for r in caplog.records if "proc_line_skipped" in r.getMessage()]
    assert len(skipped) == 2 and "wlan0" in skipped[0] and "bad0" in skipped[1]


def test_an_alias_interface_yields_a_storable_name(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    dev = tmp_path / "net" / "dev"
    collector = InterfaceCollector(proc_root=tmp_path)
    dev.write_text(NET_DEV_HEADER + f"ibr10:30: {counters(0, 0)}\neth0: {counters(0, 0)}\n")
    prev = collector.read()
    dev.write_text(NET_DEV_HEADER + f"ibr10:30: {counters(60, 0)}\neth0: {counters(120, 60)}\n")
    rates = interface_rates(prev, collector.read(), 60.0)
    assert {v.name: v.value for v in rates} == {
        "interface.ibr10_30.rxBytes.delta": 1.0,
        "interface.ibr10_30.txBytes.delta": 0.0,
        "interface.eth0.rxBytes.delta": 2.0,
        "interface.eth0.txBytes.delta": 1.0,
    }


def test_diskstats_skips_a_bad_line_and_reads_on() -> None:
    text = (
        "   8       0 sda 10 0 0 0 20 0 0 0 0 0 0\n"
        "   8       1 sda1 short\n"
        "   8       2 sda2 x 0 0 0 1 0 0 0 0 0 0\n"
        "   8      16 sdb 3 0 0 0 4 0 0 0 0 0 0\n"
    )
    assert parse_diskstats(text) == {"sda": (10, 20), "sdb": (3, 4)}


def test_proc_stat_and_loadavg_keep_what_they_can_read() -> None:
    stat = parse_cpu_stat("cpu  1 2 3 4 5 6 7 0 0 0\ncpu0 1 2 3 4 5 6 7 0 0 0\ncpu1 x\n")
    assert stat.fields[:4] == (1, 2, 3, 4) and stat.cpu_count == 2
    assert [v.name for v in parse_loadavg("0.5 ? 0.7 1/200 3000\n")] == ["loadavg1", "loadavg15"]


def test_mounts_with_undecodable_bytes_cost_only_their_line(tmp_path: Path) -> None:
    (tmp_path / "mounts").write_bytes(
        b"/dev/x\xff /nonexistent/\xfe ext4 rw 0 0\n/dev/root / ext4 rw 0 0\n"
    )
    assert [entry.mount for entry in read_filesystems(tmp_path)] == ["/"]
