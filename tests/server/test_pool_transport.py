"""`outbound_client` over `PoolTransport` against loopback peers: answers streamed and
connections kept alive as with httpx's own transport, and every failure raised as the
httpx exception callers catch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from tests.server.trickle import hostile_peer

from sabamon.server.outbound import OutboundPolicy, outbound_client, read_prefix


class KeepAliveSite:
    """An HTTP/1.1 server answering "hello <path>" that counts the connections it accepts."""

    def __init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with site.lock:
                    site.connections += 1

            def do_GET(self) -> None:
                body = f"hello {self.path}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.lock = threading.Lock()
        self.connections = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def site() -> Iterator[KeepAliveSite]:
    running = KeepAliveSite()
    yield running
    running.server.shutdown()
    running.server.server_close()


async def test_answers_stream_and_connections_are_kept_alive(site: KeepAliveSite) -> None:
    async with outbound_client(OutboundPolicy(), 5) as client:
        for path in ("/a", "/b", "/c"):
            async with client.stream("GET", site.url + path) as response:
                assert response.status_code == 200
                assert await read_prefix(response, 100) == f"hello {path}".encode()
    assert site.connections == 1


async def test_failures_are_httpx_exceptions() -> None:
    policy = OutboundPolicy.parse("10.0.0.0/8")
    async with outbound_client(policy, 5) as client:
        with pytest.raises(httpx.ConnectError, match="outside the allowed target networks"):
            await client.get("http://127.0.0.1:9/")
    async with outbound_client(OutboundPolicy(), 5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://127.0.0.1:9/")  # discard: nothing listens
    with hostile_peer("trickle", interval=1.0) as slow_url:
        async with outbound_client(OutboundPolicy(), 0.3) as client:
            with pytest.raises(httpx.ReadTimeout):
                async with client.stream("GET", slow_url) as response:
                    await read_prefix(response, 1000)
