"""AsyncMCond, the asyncio form, with the real Redis and nodes on loopback ports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from sabamon.mcond import AsyncMCond, MCond, UnknownKeyError

pytestmark = pytest.mark.redis

AsyncNodeFactory = Callable[..., AsyncMCond]
NodeFactory = Callable[..., MCond]
RawHttp = Callable[..., tuple[int, dict[str, str], bytes]]


async def started(node: AsyncMCond) -> AsyncMCond:
    await node.start()
    return node


async def test_completed_and_broadcast_wake_async_waiters(
    make_async_node: AsyncNodeFactory, key: str
) -> None:
    worker = await started(make_async_node())
    waiter_b = await started(make_async_node())
    waiter_c = await started(make_async_node())
    for node in (waiter_b, waiter_c):
        node.add_cond(key)
        worker.add_host(node.address)
    await worker.add_processing(key)
    waits = [
        asyncio.create_task(node.wait_for_available(key, timeout=10))
        for node in (waiter_b, waiter_c, waiter_c)
    ]
    done, _ = await asyncio.wait(waits, timeout=0.3)
    assert not done  # blocked while processing
    await worker.add_completed(key)
    started_at = time.monotonic()
    assert await worker.broadcast(key) == {waiter_b.address, waiter_c.address}
    assert await asyncio.wait_for(asyncio.gather(*waits), 5) == [True, True, True]
    assert time.monotonic() - started_at < 5  # poll_interval is 30 s


async def test_blocking_and_async_nodes_share_keys(
    make_async_node: AsyncNodeFactory, make_node: NodeFactory, key: str
) -> None:
    async_node = await started(make_async_node())
    blocking_node = make_node()
    async_node.add_host(blocking_node.address)
    blocking_node.add_host(async_node.address)
    for node in (async_node, blocking_node):
        node.add_cond(key)
    await async_node.add_processing(key)
    async_wait = asyncio.create_task(async_node.wait_for_available(key, timeout=10))
    blocking_wait = asyncio.create_task(
        asyncio.to_thread(blocking_node.wait_for_available, key, 10)
    )
    done, _ = await asyncio.wait([async_wait, blocking_wait], timeout=0.3)
    assert not done
    await asyncio.to_thread(blocking_node.add_completed, key)
    # The blocking node's broadcast reaches the async listener; the async waiter wakes.
    assert await asyncio.to_thread(blocking_node.broadcast, key) == {async_node.address}
    assert await asyncio.wait_for(async_wait, 5)
    assert await async_node.broadcast(key) == {blocking_node.address}
    assert await asyncio.wait_for(blocking_wait, 5)


async def test_silent_peer_costs_at_most_the_timeout(
    make_async_node: AsyncNodeFactory, key: str, silent_peer: str, closed_port: int
) -> None:
    worker = await started(make_async_node(peer_timeout=0.5))
    waiter = await started(make_async_node())
    for peer in (silent_peer, f"127.0.0.1:{closed_port}", waiter.address):
        worker.add_host(peer)
    waiter.add_cond(key)
    await worker.add_completed(key)
    started_at = time.monotonic()
    assert await worker.broadcast(key) == {waiter.address}
    assert time.monotonic() - started_at < 0.5 + 0.4
    assert await waiter.wait_for_available(key, timeout=1)


async def test_lost_broadcast_is_recovered_by_polling(
    make_async_node: AsyncNodeFactory, key: str
) -> None:
    waiter = make_async_node(poll_interval=0.2)
    waiter.add_cond(key)
    await waiter.add_processing(key)
    wait = asyncio.create_task(waiter.wait_for_available(key, timeout=10))
    done, _ = await asyncio.wait([wait], timeout=0.3)
    assert not done
    await waiter.add_completed(key)  # and no broadcast at all
    assert await asyncio.wait_for(wait, 5)


async def test_raw_client_gets_200_and_empty_body(
    make_async_node: AsyncNodeFactory, raw_http: RawHttp, key: str
) -> None:
    node = await started(make_async_node())
    for method, body in (("GET", None), ("POST", b"ignored"), ("HEAD", None), ("PURGE", None)):
        status, headers, payload = await asyncio.to_thread(
            raw_http, node.address, method, f"/cache/broadcast/{key}", body
        )
        assert (status, headers["content-length"], payload) == (200, "0", b""), method
    status, _, payload = await asyncio.to_thread(raw_http, node.address, "GET", "/nope")
    assert status == 404
    assert b'"message"' in payload


async def test_shared_secret_rejects_unsigned_calls(
    make_async_node: AsyncNodeFactory, raw_http: RawHttp, key: str
) -> None:
    guarded = await started(make_async_node(secret="s3cret"))
    status, _, payload = await asyncio.to_thread(
        raw_http, guarded.address, "GET", f"/cache/broadcast/{key}"
    )
    assert status == 401
    assert b"X-Mcond-Signature" in payload
    signer = make_async_node(secret="s3cret")
    signer.add_host(guarded.address)
    assert await signer.broadcast(key) == {guarded.address}


async def test_unknown_key_fails_clearly(make_async_node: AsyncNodeFactory, key: str) -> None:
    node = make_async_node()
    with pytest.raises(UnknownKeyError, match="add_cond"):
        await node.wait_for_available(key, timeout=0)
