"""Fixtures for mcond: the machine's Redis (via tests/conftest.py), unique keys, nodes."""

from __future__ import annotations

import functools
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import urlsplit

import pytest
import redis
from tests.mcond.helpers import RecordingPeer, option, raw_request

from sabamon.mcond import AsyncMCond, MCond, MCondOption


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the test Redis; ``redis_url`` fails under CI=true when it is down."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def make_option(redis_client: redis.Redis, redis_url: str) -> Callable[..., MCondOption]:
    """Settings for a test node using the test Redis; keywords override them."""
    url = urlsplit(redis_url)
    db = int(url.path.strip("/") or 0)
    return functools.partial(option, redis_host=f"{url.hostname}:{url.port or 6379}", redis_db=db)


@pytest.fixture
def key(redis_client: redis.Redis) -> Iterator[str]:
    """A key no other test uses; its Redis state is deleted afterwards."""
    unique = f"test-{uuid.uuid4().hex}"
    yield unique
    names = list(redis_client.scan_iter(match=f"mcond:*:{unique}*"))
    if names:
        redis_client.delete(*names)


@pytest.fixture
def make_node(make_option: Callable[..., MCondOption]) -> Iterator[Callable[..., MCond]]:
    """Start blocking nodes on free loopback ports; all are closed afterwards."""
    nodes: list[MCond] = []

    def make(**overrides: object) -> MCond:
        node = MCond(make_option(**overrides))
        nodes.append(node)
        node.start()
        return node

    yield make
    for node in nodes:
        node.close()


@pytest.fixture
async def make_async_node(
    make_option: Callable[..., MCondOption],
) -> AsyncIterator[Callable[..., AsyncMCond]]:
    """Make asyncio nodes (not started); all are closed afterwards."""
    nodes: list[AsyncMCond] = []

    def make(**overrides: object) -> AsyncMCond:
        node = AsyncMCond(make_option(**overrides))
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        await node.close()


@pytest.fixture
def silent_peer() -> Iterator[str]:
    """A peer that accepts connections (the kernel does) and never answers."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def raw_http() -> Callable[..., tuple[int, dict[str, str], bytes]]:
    """A plain HTTP client for calling a node's listener directly."""
    return raw_request


@pytest.fixture
def recording_peer() -> Iterator[RecordingPeer]:
    peer = RecordingPeer()
    thread = threading.Thread(target=peer.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield peer
    peer.shutdown()
    peer.server_close()
    thread.join()
