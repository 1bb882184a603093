"""Interface addresses from an rtnetlink address dump: literal messages, and the live dump
beside what the kernel's own `/proc/net/if_inet6` lists."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from sabamon.agent.netaddr import (
    IFA_ADDRESS,
    IFA_LOCAL,
    NLMSG_DONE,
    RTM_NEWADDR,
    interface_addresses,
    parse_addresses,
)


def attribute(kind: int, data: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def message(kind: int, body: bytes = b"") -> bytes:
    return struct.pack("=IHHII", 16 + len(body), kind, 2, 1, 0) + body


def new_address(family: int, index: int, *attributes: bytes) -> bytes:
    return message(
        RTM_NEWADDR, struct.pack("=BBBBI", family, 24, 0, 0, index) + b"".join(attributes)
    )


def test_a_dump_gives_each_address_with_its_interface() -> None:
    v4_local, v4_peer = socket.inet_pton(socket.AF_INET, "10.1.2.3"), bytes(4)
    v6 = socket.inet_pton(socket.AF_INET6, "fd00::2")
    data = (
        new_address(
            socket.AF_INET, 2, attribute(IFA_ADDRESS, v4_peer), attribute(IFA_LOCAL, v4_local)
        )
        + new_address(socket.AF_INET6, 2, attribute(3, b"eth0\0"), attribute(IFA_ADDRESS, v6))
        + message(NLMSG_DONE, b"\0\0\0\0")
    )
    found, done = parse_addresses(data)
    assert done
    assert found == [(socket.AF_INET, 2, v4_local), (socket.AF_INET6, 2, v6)]  # local, not peer


def test_a_dump_may_span_reads() -> None:
    v4 = socket.inet_pton(socket.AF_INET, "192.0.2.9")
    assert parse_addresses(new_address(socket.AF_INET, 5, attribute(IFA_LOCAL, v4))) == (
        [(socket.AF_INET, 5, v4)],
        False,
    )


def test_a_bad_length_is_an_error_not_a_loop() -> None:
    with pytest.raises(ValueError, match="bad message length"):
        parse_addresses(struct.pack("=IHHII", 4, RTM_NEWADDR, 0, 0, 0))


def test_live_addresses_match_the_kernel_lists() -> None:
    live = {entry.name: entry for entry in interface_addresses()}
    assert "127.0.0.1" in live["lo"].ipv4
    for line in Path("/proc/net/if_inet6").read_text().splitlines():
        raw, *_, name = line.split()
        address = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(raw))
        assert address in live[name].ipv6
