import threading
import time
from collections.abc import Callable

import pytest

from sabamon.agent.metrics.cpu import CpuCollector, cpu_percentages, parse_cpu_stat

ALL_NAMES = [
    f"cpu.{name}.percentage"
    for name in ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest")
]


def test_parse_recorded_stat(sample: Callable[[str], str]) -> None:
    stat = parse_cpu_stat(sample("proc_stat.1"))
    assert stat.fields == (9045, 0, 4143, 63416, 448, 0, 78, 12, 0, 0)
    assert stat.cpu_count == 2
    assert stat.total == 9045 + 4143 + 63416 + 448 + 78 + 12


def test_recorded_pair_by_hand(sample: Callable[[str], str]) -> None:
    # Δ: system 4, idle 201, iowait 1; Δtotal 206; two CPUs, so × 200.
    prev, cur = parse_cpu_stat(sample("proc_stat.1")), parse_cpu_stat(sample("proc_stat.2"))
    values = {value.name: value.value for value in cpu_percentages(prev, cur)}
    assert list(values) == [*ALL_NAMES[:4], "cpu.iowait.percentage", *ALL_NAMES[5:]]
    assert values["cpu.user.percentage"] == 0
    assert values["cpu.system.percentage"] == pytest.approx(4 * 200 / 206)
    assert values["cpu.idle.percentage"] == pytest.approx(201 * 200 / 206)
    assert values["cpu.iowait.percentage"] == pytest.approx(1 * 200 / 206)
    assert sum(values.values()) == pytest.approx(200)


def test_guest_is_taken_out_of_user_and_total() -> None:
    prev = parse_cpu_stat("cpu 100 0 0 100 0 0 0 0 0 0\ncpu0 1\n")
    # user +60 of which guest +20, guest_nice +10 (inside nice +10); idle +40.
    cur = parse_cpu_stat("cpu 160 10 0 140 0 0 0 0 20 10\ncpu0 1\n")
    values = {value.name: value.value for value in cpu_percentages(prev, cur)}
    # total excludes guest and guest_nice: 60 + 10 + 40 = 110
    assert values["cpu.user.percentage"] == pytest.approx(40 * 100 / 110)
    assert values["cpu.guest.percentage"] == pytest.approx(20 * 100 / 110)
    assert values["cpu.nice.percentage"] == pytest.approx(10 * 100 / 110)
    assert "cpu.guest_nice.percentage" not in values


def test_optional_fields_follow_the_field_count() -> None:
    prev = parse_cpu_stat("cpu 1 2 3 4 5 6\ncpu0\ncpu1\ncpu2\n")
    cur = parse_cpu_stat("cpu 11 2 3 14 5 6\ncpu0\ncpu1\ncpu2\n")
    values = {value.name: value.value for value in cpu_percentages(prev, cur)}
    assert list(values) == [*ALL_NAMES[:4], "cpu.iowait.percentage", "cpu.irq.percentage"]
    assert values["cpu.user.percentage"] == pytest.approx(10 * 300 / 20)


def test_iowait_going_down_counts_from_zero() -> None:
    prev = parse_cpu_stat("cpu 0 0 0 0 50\ncpu0\n")
    cur = parse_cpu_stat("cpu 10 0 0 80 5\ncpu0\n")
    values = {value.name: value.value for value in cpu_percentages(prev, cur)}
    # total: 45 (the raw total went 50 → 95); iowait counts as 5, not -45
    assert values["cpu.iowait.percentage"] == pytest.approx(5 * 100 / 45)


def test_no_time_passed_gives_nothing(sample: Callable[[str], str]) -> None:
    stat = parse_cpu_stat(sample("proc_stat.1"))
    assert cpu_percentages(stat, stat) == []


def test_missing_cpu_line_names_the_file() -> None:
    with pytest.raises(ValueError, match="/proc/stat"):
        parse_cpu_stat("intr 1 2 3\n")


def test_live_delta_over_a_short_interval() -> None:
    values = CpuCollector().generate(0.05, threading.Event())
    names = [value.name for value in values]
    assert names[:4] == ALL_NAMES[:4]
    if values:  # at 100 Hz, 50 ms gives a handful of ticks
        assert sum(value.value for value in values) == pytest.approx(200, rel=0.2)


def test_stop_cuts_the_wait_short() -> None:
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    started = time.monotonic()
    CpuCollector().generate(30.0, stop)
    assert time.monotonic() - started < 5
