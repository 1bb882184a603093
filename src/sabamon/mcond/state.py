"""Per-key state in Redis, under the Go original's keys and values.

``mcond:processing:<key>`` and ``mcond:complete:<key>`` hold ``"1"`` when set. A key is
available when it is not processing and is complete. Unlike the original, a Redis error
raises instead of reading as "no", and ``add_completed`` is one MULTI/EXEC.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from sabamon.mcond.option import MCondOption, split_host_port

SET = "1"


def processing_key(key: str) -> str:
    return f"mcond:processing:{key}"


def complete_key(key: str) -> str:
    return f"mcond:complete:{key}"


def is_available(processing: str | bytes | None, complete: str | bytes | None) -> bool:
    """The original's ``!IsProcessing && IsComplete``: only the exact value "1" counts.

    The clients decode responses, so values arrive as ``str``.
    """
    return processing != SET and complete == SET


def _state_keys(keys: Iterable[str]) -> list[str]:
    return [name for key in keys for name in (processing_key(key), complete_key(key))]


class StateStore(Protocol):
    """Where the blocking form keeps per-key state (Redis by default)."""

    def clear(self, keys: Iterable[str]) -> None: ...
    def add_processing(self, key: str) -> None: ...
    def add_completed(self, key: str) -> None: ...
    def available(self, key: str) -> bool: ...
    def close(self) -> None: ...


class AsyncStateStore(Protocol):
    """Where the asyncio form keeps per-key state (Redis by default)."""

    async def clear(self, keys: Iterable[str]) -> None: ...
    async def add_processing(self, key: str) -> None: ...
    async def add_completed(self, key: str) -> None: ...
    async def available(self, key: str) -> bool: ...
    async def close(self) -> None: ...


class MCondStateError(RuntimeError):
    """The state store (Redis) could not be read or written."""


@contextlib.contextmanager
def _redis_errors(option: MCondOption, action: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as error:
        raise MCondStateError(
            f"mcond {action}: redis {option.redis_host} db {option.redis_db}: {error}"
        ) from error


# Unlike redis.v2's defaults, a stuck Redis costs a bounded time, not forever; and a down
# Redis is reported within a second rather than after redis-py's default backoff.
REDIS_TIMEOUT_SECONDS = 5.0


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=0.5, base=0.05)


def _connection_options(option: MCondOption) -> dict[str, Any]:
    """The settings the blocking and the asyncio client share (all but the retry class)."""
    host, port = split_host_port(option.redis_host, "redis_host")
    return {
        "host": host,
        "port": port,
        "db": option.redis_db,
        "decode_responses": True,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    }


class RedisState:
    """The blocking Redis store."""

    def __init__(self, option: MCondOption) -> None:
        self._option = option
        self._redis = redis.Redis(**_connection_options(option), retry=Retry(_backoff(), retries=2))

    def clear(self, keys: Iterable[str]) -> None:
        names = _state_keys(keys)
        with _redis_errors(self._option, "clear"):
            if names:
                self._redis.delete(*names)

    def add_processing(self, key: str) -> None:
        with _redis_errors(self._option, f"add_processing {key!r}"):
            self._redis.set(processing_key(key), SET)

    def add_completed(self, key: str) -> None:
        with _redis_errors(self._option, f"add_completed {key!r}"):
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(processing_key(key))
            pipe.set(complete_key(key), SET)
            pipe.execute()

    def available(self, key: str) -> bool:
        with _redis_errors(self._option, f"read state of {key!r}"):
            processing, complete = self._redis.mget(processing_key(key), complete_key(key))
        return is_available(processing, complete)

    def close(self) -> None:
        self._redis.close()


class AsyncRedisState:
    """The asyncio Redis store."""

    def __init__(self, option: MCondOption) -> None:
        self._option = option
        self._redis = redis.asyncio.Redis(
            **_connection_options(option), retry=AsyncRetry(_backoff(), retries=2)
        )

    async def clear(self, keys: Iterable[str]) -> None:
        names = _state_keys(keys)
        with _redis_errors(self._option, "clear"):
            if names:
                await self._redis.delete(*names)

    async def add_processing(self, key: str) -> None:
        with _redis_errors(self._option, f"add_processing {key!r}"):
            await self._redis.set(processing_key(key), SET)

    async def add_completed(self, key: str) -> None:
        with _redis_errors(self._option, f"add_completed {key!r}"):
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(processing_key(key))
            pipe.set(complete_key(key), SET)
            await pipe.execute()

    async def available(self, key: str) -> bool:
        with _redis_errors(self._option, f"read state of {key!r}"):
            processing, complete = await self._redis.mget(processing_key(key), complete_key(key))
        return is_available(processing, complete)

    async def close(self) -> None:
        await self._redis.aclose()
