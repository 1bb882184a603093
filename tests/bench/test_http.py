"""The bench's HTTP client against a real loopback server that closes idle keep-alive
connections: its error counts measure the server, not the client."""

from __future__ import annotations

import asyncio

import pytest

from sabamon.bench.http import ClosedBeforeAnswer, Connection, Endpoint

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


async def closing_server(answers_per_connection: int, seen: list[bytes]) -> asyncio.Server:
    """Answers `answers_per_connection` requests on a connection, then closes it without a
    word, as a server whose keep-alive timeout just ran out does."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(answers_per_connection):
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            seen.append(head.split(b"\r\n")[0] + await reader.readexactly(length))
            writer.write(ANSWER)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_a_reused_connection_closed_before_any_answer_byte_is_retried_once() -> None:
    async def scenario() -> list[int]:
        seen: list[bytes] = []
        server = await closing_server(1, seen)
        port = server.sockets[0].getsockname()[1]
        connection = Connection(Endpoint("127.0.0.1", port, ""), {})
        statuses = []
        for n in range(5):
            statuses.append((await connection.request("POST", "/api/v0/tsdb", b"[%d]" % n)).status)
            await asyncio.sleep(0.05)  # the server's close reaches the client's socket
        connection.close()
        server.close()
        assert seen == [b"POST /api/v0/tsdb HTTP/1.1[%d]" % n for n in range(5)]  # once each
        return statuses

    assert asyncio.run(scenario()) == [200] * 5


def test_a_fresh_connection_closed_before_any_answer_byte_is_an_error() -> None:
    async def scenario() -> None:
        server = await closing_server(0, [])
        port = server.sockets[0].getsockname()[1]
        connection = Connection(Endpoint("127.0.0.1", port, ""), {})
        with pytest.raises(ClosedBeforeAnswer):
            await connection.request("POST", "/api/v0/tsdb", b"[]")
        server.close()

    asyncio.run(scenario())
