import threading
from collections.abc import Callable

import pytest

from sabamon.agent.metrics.base import Value
from sabamon.agent.metrics.loadavg import LoadavgCollector, parse_loadavg


def test_parse_loadavg_literal() -> None:
    assert parse_loadavg("0.39 0.18 0.08 2/158 8407\n") == [
        Value("loadavg1", 0.39),
        Value("loadavg5", 0.18),
        Value("loadavg15", 0.08),
    ]


def test_parse_recorded_sample(sample: Callable[[str], str]) -> None:
    expected = [float(field) for field in sample("loadavg").split()[:3]]
    assert [value.value for value in parse_loadavg(sample("loadavg"))] == expected


def test_garbage_names_the_file() -> None:
    with pytest.raises(ValueError, match="/proc/loadavg"):
        parse_loadavg("0.1\n")


def test_live_loadavg() -> None:
    values = LoadavgCollector().generate(0.0, threading.Event())
    assert [value.name for value in values] == ["loadavg1", "loadavg5", "loadavg15"]
    assert all(0 <= value.value < 1000 for value in values)
