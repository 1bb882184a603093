"""Fixtures for mcond: the machine's Redis, unique keys, started nodes, a silent peer."""

from __future__ import annotations

import http.client
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis

from sabamon.mcond import AsyncMCond, MCond, MCondOption

REDIS_HOST = os.environ.get("SABAMON_TEST_REDIS", "127.0.0.1:6379")


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    host, _, port = REDIS_HOST.rpartition(":")
    client = redis.Redis(host=host, port=int(port), decode_responses=True)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_HOST} is not reachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture
def key(redis_client: redis.Redis) -> Iterator[str]:
    """A key no other test uses; its Redis state is deleted afterwards."""
    unique = f"test-{uuid.uuid4().hex}"
    yield unique
    names = list(redis_client.scan_iter(match=f"mcond:*:{unique}*"))
    if names:
        redis_client.delete(*names)


def option(**overrides: object) -> MCondOption:
    settings: dict[str, object] = {
        "redis_host": REDIS_HOST,
        "addr": "127.0.0.1:0",
        "peer_timeout": 1.0,
        "poll_interval": 30.0,  # long: a wake-up must come from a broadcast, not a poll
    }
    settings.update(overrides)
    return MCondOption(**settings)  # type: ignore[arg-type]


@pytest.fixture
def make_option() -> Callable[..., MCondOption]:
    """Settings for a test node; keyword arguments override them."""
    return option


@pytest.fixture
def make_node(redis_client: redis.Redis) -> Iterator[Callable[..., MCond]]:
    """Start blocking nodes on free loopback ports; all are closed afterwards."""
    nodes: list[MCond] = []

    def make(**overrides: object) -> MCond:
        node = MCond(option(**overrides))
        node.start()
        nodes.append(node)
        return node

    yield make
    for node in nodes:
        node.close()


@pytest.fixture
async def make_async_node(
    redis_client: redis.Redis,
) -> AsyncIterator[Callable[..., AsyncMCond]]:
    nodes: list[AsyncMCond] = []

    def make(**overrides: object) -> AsyncMCond:
        node = AsyncMCond(option(**overrides))
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


def raw_request(
    address: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request with the standard library's client: status, headers, body."""
    host, _, port = address.rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def raw_http() -> Callable[..., tuple[int, dict[str, str], bytes]]:
    """A plain HTTP client for calling a node's listener directly."""
    return raw_request
