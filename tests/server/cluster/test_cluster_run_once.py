"""run_once across three real members (Redis on loopback, mcond listeners on loopback)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio

from sabamon.server.cluster import ClusterNode, ClusterSettings, CoordinationLost, JobFailed

pytestmark = pytest.mark.redis

NodeFactory = Callable[..., Awaitable[ClusterNode]]


@pytest.fixture
async def start_node(redis_url: str, redis_namespace: str) -> AsyncIterator[NodeFactory]:
    started: list[ClusterNode] = []

    async def start(**overrides: object) -> ClusterNode:
        settings: dict[str, object] = {
            "redis_url": redis_url,
            "prefix": redis_namespace,
            "heartbeat_interval": 0.1,
            "member_ttl": 1.0,
            "claim_lease": 0.5,
        }
        settings.update(overrides)
        node = ClusterNode(ClusterSettings(**settings))  # type: ignore[arg-type]
        await node.start()
        started.append(node)
        return node

    yield start
    for node in started:
        await node.close()


async def three_members(start_node: NodeFactory) -> list[ClusterNode]:
    nodes = [await start_node(member_id=name) for name in ("n1", "n2", "n3")]
    for node in nodes:
        await node.refresh()
    return nodes


async def test_a_job_runs_once_and_everyone_gets_its_result(start_node: NodeFactory) -> None:
    nodes = await three_members(start_node)
    runs: list[str] = []
    release = asyncio.Event()

    def job(name: str) -> Callable[[], Awaitable[object]]:
        async def work() -> object:
            runs.append(name)
            await release.wait()
            return {"buckets": 12, "by": name}

        return work

    waiting = [
        asyncio.create_task(node.run_once("rollup:600", job(node.member_id), timeout=10))
        for node in nodes
    ]
    while not runs:
        await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(*waiting)
    assert len(runs) == 1
    assert results == [{"buckets": 12, "by": runs[0]}] * 3


async def test_a_late_member_reads_the_shared_result(start_node: NodeFactory) -> None:
    first, late, _ = await three_members(start_node)

    async def once() -> int:
        return 7

    async def never() -> int:
        raise AssertionError("the job ran twice")

    assert await first.run_once("rollup:60", once) == 7
    assert await late.run_once("rollup:60", never) == 7


async def test_a_failure_is_shared(start_node: NodeFactory) -> None:
    first, other, _ = await three_members(start_node)

    async def broken() -> int:
        raise ValueError("disk full")

    with pytest.raises(JobFailed, match="disk full"):
        await first.run_once("expire:60", broken)
    with pytest.raises(JobFailed, match="disk full"):
        await other.run_once("expire:60", broken)


async def test_a_dead_claimant_is_replaced_after_its_lease(
    start_node: NodeFactory, redis_url: str, redis_namespace: str
) -> None:
    node = await start_node()
    # Fault injection: a claim left by a member that died before finishing.
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.set(f"{redis_namespace}claim:{redis_namespace}rollup:120", "ghost", px=300)
    await client.set(f"mcond:processing:{redis_namespace}rollup:120", "1")
    await client.aclose()

    async def work() -> str:
        return "done"

    assert await node.run_once("rollup:120", work, timeout=5) == "done"


async def test_waiters_time_out_while_the_claimant_is_alive(start_node: NodeFactory) -> None:
    worker, waiter, _ = await three_members(start_node)
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(30)

    running = asyncio.create_task(worker.run_once("slow:1", slow))
    await started.wait()
    with pytest.raises(TimeoutError):
        await waiter.run_once("slow:1", slow, timeout=1.5)
    running.cancel()


async def test_members_track_each_other_and_a_leaver(start_node: NodeFactory) -> None:
    nodes = await three_members(start_node)
    assert nodes[0].assignment.members == {"n1", "n2", "n3"}
    monitors = [f"m{i}" for i in range(300)]
    assert all(sum(node.owns(m) for node in nodes) == 1 for m in monitors)
    await nodes[2].close()
    await nodes[0].refresh()
    await nodes[1].refresh()
    assert all(nodes[0].owns(m) + nodes[1].owns(m) == 1 for m in monitors)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_without_redis_a_member_owns_nothing_and_runs_nothing(
    start_node: NodeFactory,
) -> None:
    node = await start_node(redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    assert not node.owns("monitor-1")

    async def work() -> int:
        raise AssertionError("ran without coordination")

    with pytest.raises(CoordinationLost):
        await node.run_once("rollup:60", work)


def test_settings_refuse_a_heartbeat_slower_than_the_ttl() -> None:
    with pytest.raises(ValueError, match="shorter than the member TTL"):
        ClusterSettings(redis_url="redis://127.0.0.1:6379/0", heartbeat_interval=30, member_ttl=10)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:6379", "expected redis://"),
        ("redis://user:pw@127.0.0.1:6379/0", "cannot log in"),
        ("redis://127.0.0.1:6379/zero", "'zero' is not a number"),
    ],
)
def test_bad_redis_urls_are_named(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClusterNode(ClusterSettings(redis_url=url))


async def test_an_announce_wakes_the_listeners_of_every_member(start_node: NodeFactory) -> None:
    """The check report route announces on one member; the owner of the check monitor
    may be another. A burst shares broadcasts, and the last announce always arrives."""
    nodes = await three_members(start_node)
    heard = [node.listen("check-reports") for node in nodes]
    nodes[0].announce("check-reports")
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in heard)), 5)
    last = nodes[2].listen("check-reports")
    for _ in range(100):
        nodes[1].announce("check-reports")
    await asyncio.wait_for(last.wait(), 5)
    after = nodes[2].listen("check-reports")
    nodes[1].announce("check-reports")  # within the spacing of the burst's broadcast
    await asyncio.wait_for(after.wait(), 5)


async def test_a_solo_node_announces_to_its_own_listeners() -> None:
    from sabamon.server.cluster import SoloNode

    node = SoloNode()
    heard = node.listen("check-reports")
    node.announce("check-reports")
    assert heard.is_set() and not node.listen("check-reports").is_set()
