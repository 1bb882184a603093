"""Registering the simulated hosts (`POST /api/v0/hosts`), before a step's clock starts."""

from __future__ import annotations

import asyncio
import json
import time

from sabamon.bench.http import Connection, Endpoint
from sabamon.bench.shard import headers

MAX_ATTEMPTS = 20


class RegistrationError(Exception):
    """The server refused to register a host (a bad key, a bad URL): the run cannot go on."""


def host_body(name: str) -> bytes:
    return json.dumps(
        {"name": name, "customIdentifier": name, "meta": {"agent-name": "sabamon-bench"}}
    ).encode()


async def register_hosts(
    url: str, apikey: str, names: list[str], connections: int, timeout: float
) -> list[str]:
    """The new hosts' ids, in the order of `names`. A 503 is retried after its Retry-After."""
    endpoint = Endpoint.from_url(url)
    ids: list[str] = [""] * len(names)
    next_index = 0

    async def register_next(connection: Connection) -> None:
        nonlocal next_index
        while next_index < len(names):
            index, next_index = next_index, next_index + 1
            ids[index] = await register_one(connection, names[index], timeout)
        connection.close()

    workers = [
        register_next(Connection(endpoint, headers(apikey)))
        for _ in range(min(connections, len(names)))
    ]
    await asyncio.gather(*workers)
    return ids


async def register_one(connection: Connection, name: str, timeout: float) -> str:
    for _ in range(MAX_ATTEMPTS):
        started = time.monotonic()
        try:
            answer = await asyncio.wait_for(
                connection.request("POST", "/api/v0/hosts", host_body(name)), timeout
            )
        except (TimeoutError, OSError) as error:
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
            last = f"{type(error).__name__}: {error}"
            continue
        if answer.status == 200:
            host_id: str = json.loads(answer.body)["id"]
            return host_id
        last = f"{answer.status} {answer.body[:200].decode(errors='replace')}"
        if answer.status != 503 and answer.status < 500:
            break
        await asyncio.sleep(answer.retry_after() or 1.0)
    raise RegistrationError(f"POST /api/v0/hosts for {name!r}: {last}")


def register_shard(url: str, apikey: str, names: list[str], connections: int) -> list[str]:
    """The process pool's task: registers one process's share of the new hosts."""
    return asyncio.run(register_hosts(url, apikey, names, connections, timeout=30.0))
