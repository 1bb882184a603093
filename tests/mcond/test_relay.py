"""Relaying a received broadcast: off by default, and never twice when on."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from tests.mcond.helpers import RecordingPeer

from sabamon.mcond import MCond

pytestmark = pytest.mark.redis

NodeFactory = Callable[..., MCond]
RawHttp = Callable[..., tuple[int, dict[str, str], bytes]]
QUIET_PERIOD = 0.3  # how long an extra call would have had to show up


def test_received_broadcast_is_not_relayed_by_default(
    make_node: NodeFactory, recording_peer: RecordingPeer, key: str
) -> None:
    a_node, b_node = make_node(), make_node()
    a_node.add_host(b_node.address)
    b_node.add_host(a_node.address)  # both directions: the Go original loops forever here
    b_node.add_host(recording_peer.address)
    assert a_node.broadcast(key) == {b_node.address}
    assert not threading.Event().wait(QUIET_PERIOD)
    assert recording_peer.calls == []


def test_relay_goes_one_hop_and_stops(
    make_node: NodeFactory, recording_peer: RecordingPeer, key: str
) -> None:
    a_node, b_node = make_node(relay=True), make_node(relay=True)
    for node, other in ((a_node, b_node), (b_node, a_node)):
        node.add_host(other.address)
        node.add_host(recording_peer.address)
    assert a_node.broadcast(key) == {b_node.address, recording_peer.address}
    path = f"/cache/broadcast/{key}"
    # One call straight from a_node, one relayed by b_node; a_node drops b_node's relay.
    assert sorted(recording_peer.wait_for_calls(2)) == [(path, False), (path, True)]
    assert not threading.Event().wait(QUIET_PERIOD)
    assert len(recording_peer.calls) == 2


def test_call_from_a_go_node_is_relayed_once(
    make_node: NodeFactory, raw_http: RawHttp, recording_peer: RecordingPeer, key: str
) -> None:
    hub = make_node(relay=True)
    hub.add_host(recording_peer.address)
    assert raw_http(hub.address, "GET", f"/cache/broadcast/{key}")[0] == 200
    assert recording_peer.wait_for_calls(1) == [(f"/cache/broadcast/{key}", True)]
