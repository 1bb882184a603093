"""A fault-injecting loopback HTTP peer for agent tests: it answers the Mackerel v0 calls the
agent makes, records every request, and can answer an error N times or drop connections.
It is a test peer (like the original's mock server), not a stand-in for sabamon's server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """Answer `status` (or drop the connection when status is None) to matching requests,
    `times` times (-1: always)."""

    matches: Callable[[Recorded], bool]
    status: int | None
    times: int = -1
    headers: dict[str, str] = field(default_factory=dict)


class FaultServer:
    def __init__(self, host_id: str = "2eQGEaLxiYU", custom_identifier: str = "") -> None:
        self.host_id = host_id
        self.custom_identifier = custom_identifier
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.stored: list[dict[str, Any]] = []  # tsdb values accepted, in arrival order
        self.changed = threading.Condition()
        handler = type("Handler", (_Handler,), {"peer": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail(self, fault: Fault) -> None:
        with self.changed:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        with self.changed:
            self.faults.clear()

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        with self.changed:
            return [
                r for r in self.requests if r.method == method and r.path.startswith(path_prefix)
            ]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("condition not met before the deadline")
                self.changed.wait(remaining)

    def answer(self, request: Recorded) -> tuple[int | None, Any, dict[str, str]]:
        with self.changed:
            self.requests.append(request)
            for fault in self.faults:
                if fault.times != 0 and fault.matches(request):
                    fault.times -= 1 if fault.times > 0 else 0
                    self.changed.notify_all()
                    return fault.status, {"error": {"message": "injected fault"}}, fault.headers
            status, body = self._route(request)
            self.changed.notify_all()
            return status, body, {}

    def _route(self, request: Recorded) -> tuple[int, Any]:
        method, path = request.method, request.path.split("?")[0]
        host = {
            "id": self.host_id,
            "name": "test",
            "status": "working",
            "customIdentifier": self.custom_identifier or None,
        }
        if method == "POST" and path == "/api/v0/tsdb":
            self.stored += request.body
            return 200, {"success": True}
        if method == "POST" and path == "/api/v0/hosts":
            return 200, {"id": self.host_id}
        if method == "GET" and path == f"/api/v0/hosts/{self.host_id}":
            return 200, {"host": host}
        if method == "GET" and path == "/api/v0/hosts":
            return 200, {"hosts": []}
        if method == "PUT" and path == f"/api/v0/hosts/{self.host_id}":
            return 200, {"id": self.host_id}
        if method == "POST" and path.startswith("/api/v0/"):
            return 200, {"success": True}
        return 404, {"error": {"message": f"no route {method} {path}"}}


class _Handler(BaseHTTPRequestHandler):
    peer: FaultServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        request = Recorded(self.command, self.path, dict(self.headers.items()), body)
        status, answer, headers = self.peer.answer(request)
        if status is None:
            self.close_connection = True
            self.connection.close()
            return
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _handle
