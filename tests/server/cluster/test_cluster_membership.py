"""Membership against the machine's Redis: heartbeats, expiry, leases and a lost Redis."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from sabamon.server.cluster import Member, Membership

pytestmark = pytest.mark.redis


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    connection = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    await connection.aclose()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_members_see_each_other(client: redis.asyncio.Redis, redis_namespace: str) -> None:
    one = Membership(client, Member("one", "127.0.0.1:1"), prefix=redis_namespace)
    two = Membership(client, Member("two", "127.0.0.1:2"), prefix=redis_namespace)
    assert await one.heartbeat() and await two.heartbeat()
    assert await one.read_members() == [Member("one", "127.0.0.1:1"), Member("two", "127.0.0.1:2")]


async def test_a_silent_member_expires_and_is_dropped(
    client: redis.asyncio.Redis, redis_namespace: str
) -> None:
    alive = Membership(client, Member("alive", ""), prefix=redis_namespace, ttl=5.0)
    dying = Membership(client, Member("dying", ""), prefix=redis_namespace, ttl=0.2)
    await alive.heartbeat()
    await dying.heartbeat()
    deadline = time.monotonic() + 5
    while (members := await alive.read_members()) != [Member("alive", "")]:
        assert time.monotonic() < deadline, f"dying member never expired: {members}"
        await asyncio.sleep(0.05)
    assert not await client.sismember(alive.index_key, "dying")


async def test_leave_removes_the_member_at_once(
    client: redis.asyncio.Redis, redis_namespace: str
) -> None:
    one = Membership(client, Member("one", ""), prefix=redis_namespace)
    two = Membership(client, Member("two", ""), prefix=redis_namespace)
    await one.heartbeat()
    await two.heartbeat()
    await two.leave()
    assert await one.read_members() == [Member("one", "")]
    assert not two.lease_valid()


async def test_the_lease_runs_from_the_last_good_heartbeat(
    client: redis.asyncio.Redis, redis_namespace: str
) -> None:
    clock = ManualClock()
    member = Membership(client, Member("m", ""), prefix=redis_namespace, ttl=30, monotonic=clock)
    assert not member.lease_valid()
    await member.heartbeat()
    clock.now += 29.9
    assert member.lease_valid()
    clock.now += 0.2
    assert not member.lease_valid()


async def test_a_lost_redis_ends_the_lease_and_reads_as_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    dead = redis.asyncio.Redis(port=closed_port(), retry=Retry(NoBackoff(), retries=0))
    member = Membership(dead, Member("m", ""), ttl=30, monotonic=clock)
    try:
        assert await member.heartbeat() is False
        assert await member.read_members() is None
        assert not member.lease_valid()
    finally:
        await dead.aclose()
    lost = [r for r in caplog.records if "event=cluster_coordination_lost" in r.getMessage()]
    assert len(lost) == 1, "the loss is logged once, not per attempt"
