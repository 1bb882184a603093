"""A loopback HTTP server that records JSON posts: the peer of webhook and Slack tests.

`fail_first` makes it answer 503 to that many requests first (a fault injector);
`hold_until` makes it hold every answer until that many requests have arrived (at most
`HOLD_TIMEOUT` seconds), so senders that overlap are seen to overlap on any machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD_TIMEOUT = 5.0
"""Seconds a held answer waits for the other requests (below a delivery's deadline)."""


class Receiver:
    def __init__(self, fail_first: int = 0, hold_until: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.requests = 0
        self.fail_first = fail_first
        self.hold_until = hold_until
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.url = ""

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.bodies) >= count:
                    return list(self.bodies)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} posts, got {len(self.bodies)}")


@contextmanager
def receiving(fail_first: int = 0, hold_until: int = 0) -> Iterator[Receiver]:
    receiver = Receiver(fail_first, hold_until)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.requests += 1
                failing = receiver.requests <= receiver.fail_first
                if not failing:
                    receiver.bodies.append(json.loads(body))
                if receiver.requests >= receiver.hold_until:
                    receiver.released.set()
            receiver.released.wait(HOLD_TIMEOUT)
            self.send_response(503 if failing else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
