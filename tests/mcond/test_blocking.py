"""MCond, the blocking form, with the real Redis and nodes on loopback ports."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import redis

from sabamon.mcond import MCond, MCondOption, MCondStateError, UnknownKeyError
from sabamon.mcond.signing import SIGNATURE_HEADER, sign
from sabamon.mcond.wire import broadcast_path

pytestmark = pytest.mark.redis

NodeFactory = Callable[..., MCond]
OptionFactory = Callable[..., MCondOption]
RawHttp = Callable[..., tuple[int, dict[str, str], bytes]]
SETTLE = 0.3


def wait_in_thread(
    pool: ThreadPoolExecutor, node: MCond, key: str, timeout: float = 10.0
) -> Future[tuple[bool, float]]:
    def run() -> tuple[bool, float]:
        started = time.monotonic()
        return node.wait_for_available(key, timeout), time.monotonic() - started

    return pool.submit(run)


def sleeping_waiters(
    pool: ThreadPoolExecutor, nodes: Sequence[MCond], key: str
) -> list[Future[tuple[bool, float]]]:
    """A waiter on `key` per node, each checked still asleep after SETTLE seconds: time
    enough to have read the state and gone to sleep, so a later wake-up is the broadcast's."""
    waits = [wait_in_thread(pool, node, key) for node in nodes]
    futures.wait(waits, timeout=SETTLE)
    assert not any(wait.done() for wait in waits)
    return waits


def test_completed_and_broadcast_wake_waiters_on_other_nodes(
    make_node: NodeFactory, key: str
) -> None:
    worker, waiter_b, waiter_c = make_node(), make_node(), make_node()
    worker.add_host(waiter_b.address)
    worker.add_host(waiter_c.address)
    for node in (worker, waiter_b, waiter_c):
        node.add_cond(key)
    worker.clear()
    worker.add_processing(key)
    with ThreadPoolExecutor(4) as pool:
        waits = sleeping_waiters(pool, (waiter_b, waiter_c, waiter_b), key)
        worker.add_completed(key)
        assert worker.broadcast(key) == {waiter_b.address, waiter_c.address}
        results = [wait.result(timeout=5) for wait in waits]
    # poll_interval is 30 s: waking in well under that means the broadcast did it.
    assert all(ok and elapsed < 5 for ok, elapsed in results)


def test_state_uses_the_go_keys_and_values(
    make_node: NodeFactory, key: str, redis_client: redis.Redis
) -> None:
    node = make_node()
    node.add_cond(key)
    node.add_processing(key)
    assert redis_client.get(f"mcond:processing:{key}") == "1"
    assert not node.wait_for_available(key, timeout=0)
    node.add_completed(key)
    assert redis_client.get(f"mcond:processing:{key}") is None
    assert redis_client.get(f"mcond:complete:{key}") == "1"
    assert node.wait_for_available(key, timeout=0)
    redis_client.set(f"mcond:processing:{key}", "yes")  # only "1" means processing, as in Go
    assert node.wait_for_available(key, timeout=0)
    redis_client.set(f"mcond:complete:{key}-other", "1")
    node.clear()
    assert redis_client.get(f"mcond:complete:{key}") is None
    assert redis_client.get(f"mcond:complete:{key}-other") == "1"  # not registered here


def test_silent_peer_costs_at_most_the_timeout(
    make_node: NodeFactory, key: str, silent_peer: str, closed_port: int
) -> None:
    worker, waiter = make_node(peer_timeout=0.5), make_node()
    worker.add_host(silent_peer)
    worker.add_host(f"127.0.0.1:{closed_port}")
    worker.add_host(waiter.address)
    waiter.add_cond(key)
    worker.add_completed(key)
    started = time.monotonic()
    assert worker.broadcast(key) == {waiter.address}
    assert time.monotonic() - started < 0.5 + 0.4
    assert waiter.wait_for_available(key, timeout=1)


def test_lost_broadcast_is_recovered_by_polling(make_node: NodeFactory, key: str) -> None:
    worker, waiter = make_node(), make_node(poll_interval=0.2)
    waiter.add_cond(key)
    worker.add_processing(key)
    with ThreadPoolExecutor(1) as pool:
        (wait,) = sleeping_waiters(pool, (waiter,), key)
        worker.add_completed(key)  # no broadcast: the wake-up is lost
        ok, _ = wait.result(timeout=5)
    assert ok


def test_wait_times_out_while_processing(make_node: NodeFactory, key: str) -> None:
    node = make_node(poll_interval=0.05)
    node.add_cond(key)
    node.add_processing(key)
    started = time.monotonic()
    assert node.wait_for_available(key, timeout=0.3) is False
    assert 0.3 <= time.monotonic() - started < 2


def test_raw_client_gets_200_and_empty_body_on_any_method(
    make_node: NodeFactory, raw_http: RawHttp, key: str
) -> None:
    node = make_node()
    node.add_cond(key)
    node.add_completed(key)
    for method, body in (("GET", None), ("POST", b"ignored"), ("DELETE", None), ("PURGE", None)):
        status, headers, payload = raw_http(node.address, method, f"/cache/broadcast/{key}", body)
        assert (status, headers["Content-Length"], payload) == (200, "0", b""), method
    status, _, payload = raw_http(node.address, "GET", "/nope")
    assert status == 404
    assert b'"message"' in payload


def test_broadcast_wakes_a_sleeping_waiter_through_raw_http(
    make_node: NodeFactory, raw_http: RawHttp, key: str
) -> None:
    node = make_node()
    node.add_cond(key)
    node.add_processing(key)
    with ThreadPoolExecutor(1) as pool:
        (wait,) = sleeping_waiters(pool, (node,), key)
        node.add_completed(key)
        assert raw_http(node.address, "GET", f"/cache/broadcast/{key}")[0] == 200
        ok, elapsed = wait.result(timeout=5)
    assert ok and elapsed < 5


def test_awkward_keys_round_trip(make_node: NodeFactory, key: str) -> None:
    worker, waiter = make_node(), make_node()
    worker.add_host(waiter.address)
    awkward = f"{key} a/b?c=1#d%41 é"
    waiter.add_cond(awkward)
    worker.add_processing(awkward)
    with ThreadPoolExecutor(1) as pool:
        (wait,) = sleeping_waiters(pool, (waiter,), awkward)
        worker.add_completed(awkward)
        assert worker.broadcast(awkward) == {waiter.address}
        assert wait.result(timeout=5)[0]


def test_shared_secret_rejects_unsigned_calls(
    make_node: NodeFactory, raw_http: RawHttp, key: str
) -> None:
    guarded = make_node(secret="s3cret")
    guarded.add_cond(key)
    path = broadcast_path(key)
    status, _, payload = raw_http(guarded.address, "GET", path)
    assert status == 401
    assert SIGNATURE_HEADER.encode() in payload
    forged = {SIGNATURE_HEADER: sign("wrong", path, time.time())}
    assert raw_http(guarded.address, "GET", path, headers=forged)[0] == 401
    signed = {SIGNATURE_HEADER: sign("s3cret", path, time.time())}
    assert raw_http(guarded.address, "POST", path, headers=signed)[0] == 200
    right, wrong = make_node(secret="s3cret"), make_node(secret="other")
    right.add_host(guarded.address)
    wrong.add_host(guarded.address)
    assert right.broadcast(key) == {guarded.address}
    assert wrong.broadcast(key) == set()


def test_unknown_key_and_taken_port_fail_clearly(
    make_node: NodeFactory, make_option: OptionFactory, key: str
) -> None:
    node = make_node()
    with pytest.raises(UnknownKeyError, match="add_cond"):
        node.wait_for_available(key, timeout=0)
    clash = MCond(make_option(addr=node.address))
    try:
        with pytest.raises(OSError):
            clash.start()
    finally:
        clash.close()


def test_bad_addresses_are_refused(make_option: OptionFactory) -> None:
    with pytest.raises(ValueError, match="addr"):
        MCond(make_option(addr="nowhere"))
    node = MCond(make_option())
    try:
        with pytest.raises(ValueError, match="peer"):
            node.add_host("10.0.0.1")
    finally:
        node.close()


def test_redis_down_raises_on_write_and_times_out_waiting(
    make_option: OptionFactory, closed_port: int, key: str
) -> None:
    with MCond(make_option(redis_host=f"127.0.0.1:{closed_port}", poll_interval=0.05)) as node:
        node.add_cond(key)
        with pytest.raises(MCondStateError, match=f"127.0.0.1:{closed_port}"):
            node.add_processing(key)
        assert node.wait_for_available(key, timeout=0.2) is False
