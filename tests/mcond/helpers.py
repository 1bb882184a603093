"""Helpers for the mcond tests: node settings, a raw HTTP call, a recording peer."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sabamon.mcond import MCondOption


def option(**overrides: object) -> MCondOption:
    """Settings for a test node on a free loopback port; keywords override them."""
    settings: dict[str, object] = {
        "addr": "127.0.0.1:0",
        "peer_timeout": 1.0,
        "poll_interval": 30.0,  # long: a wake-up must come from a broadcast, not a poll
    }
    settings.update(overrides)
    return MCondOption(**settings)  # type: ignore[arg-type]


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


class RecordingPeer(ThreadingHTTPServer):
    """A loopback peer that answers 200 and records each call's path and relay mark."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.calls: list[tuple[str, bool]] = []
        self.changed = threading.Condition()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def wait_for_calls(self, count: int, timeout: float = 5.0) -> list[tuple[str, bool]]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.calls) >= count, timeout)
            return list(self.calls)


class _RecordingHandler(BaseHTTPRequestHandler):
    server: RecordingPeer

    def do_GET(self) -> None:
        with self.server.changed:
            self.server.calls.append((self.path, "X-Mcond-Relayed" in self.headers))
            self.server.changed.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass
