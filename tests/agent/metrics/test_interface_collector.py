import re
import threading
from collections.abc import Callable

from sabamon.agent.metrics.interface import InterfaceCollector, interface_rates, parse_net_dev


def test_parse_skips_lo_veth_and_short_lines(sample: Callable[[str], str]) -> None:
    counts = parse_net_dev(sample("net_dev.1"))
    assert list(counts) == ["ifb0", "ifb1", "eth0", "eth1"]
    assert counts["eth0"] == (285764213, 333656)
    assert counts["eth1"] == (900000, 400)


def test_rates_by_hand_and_counter_going_down(sample: Callable[[str], str]) -> None:
    prev, cur = parse_net_dev(sample("net_dev.1")), parse_net_dev(sample("net_dev.2"))
    values = {value.name: value.value for value in interface_rates(prev, cur, 60.0)}
    assert values == {
        "interface.ifb0.rxBytes.delta": 0.0,
        "interface.ifb0.txBytes.delta": 0.0,
        "interface.ifb1.rxBytes.delta": 0.0,
        "interface.ifb1.txBytes.delta": 0.0,
        "interface.eth0.rxBytes.delta": 6000 / 60,
        "interface.eth0.txBytes.delta": 3000 / 60,
        # eth1's rx went from 900000 to 1000 (a reset): left out
        "interface.eth1.txBytes.delta": 600 / 60,
    }


def test_ignore_matches_the_sanitised_name(sample: Callable[[str], str]) -> None:
    prev, cur = parse_net_dev(sample("net_dev.1")), parse_net_dev(sample("net_dev.2"))
    values = interface_rates(prev, cur, 60.0, ignore=re.compile(r"^ifb"))
    assert {value.name.split(".")[1] for value in values} == {"eth0", "eth1"}


def test_names_are_sanitised() -> None:
    header = "Inter-|\n face |\n"
    line = "br.0@x: {} 0 0 0 0 0 0 0 10 0 0 0 0 0 0 0\n"
    prev, cur = parse_net_dev(header + line.format(0)), parse_net_dev(header + line.format(120))
    assert [v.name for v in interface_rates(prev, cur, 60.0)] == [
        "interface.br_0_x.rxBytes.delta",
        "interface.br_0_x.txBytes.delta",
    ]


def test_live_interfaces_over_a_short_interval() -> None:
    values = InterfaceCollector().generate(0.05, threading.Event())
    names = {value.name for value in values}
    assert names, "this host has at least one non-loopback interface"
    for name in names:
        assert re.fullmatch(r"interface\.[A-Za-z0-9_-]+\.(rx|tx)Bytes\.delta", name)
        assert not name.startswith(("interface.lo.", "interface.veth"))
    assert all(value.value >= 0 for value in values)
