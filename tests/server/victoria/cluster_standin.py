"""A stand-in for a VictoriaMetrics cluster's vminsert and vmselect, on loopback.

Debian packages only the single-node VictoriaMetrics (no vminsert, vmselect or
vmstorage), so the cluster's URL forms are tested against this stand-in: two real HTTP
servers that answer only their component's paths (as the real ones do), record every
request line, and forward each accepted request to a real single-node VictoriaMetrics with
the cluster prefix removed (`/insert/<tenant>/prometheus/api/v1/...` → `/api/v1/...`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

ROUTES = {
    "insert": re.compile(r"^/insert/(\d+(?::\d+)?)/prometheus(/api/v1/import/prometheus)$"),
    "select": re.compile(r"^/(?:select|delete)/(\d+(?::\d+)?)/prometheus(/api/v1/[a-z_/]+)$"),
}


@dataclass
class Component:
    """One stand-in component; `requests` lists "METHOD /path" in arrival order."""

    role: str
    url: str
    requests: list[str] = field(default_factory=list)


def _handler(role: str, target: str, component: list[Component]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _forward(self, method: str) -> None:
            path, _, query = self.path.partition("?")
            component[0].requests.append(f"{method} {path}")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            match = ROUTES[role].match(path)
            if path in ("/health", "/flags"):  # every component's own pages
                upstream = path
            elif match is None:
                self.send_response(400)
                self.end_headers()
                self.wfile.write(f"unsupported path requested: {path!r}".encode())
                return
            else:
                upstream = match.group(2)
            headers = {"Content-Type": self.headers.get("Content-Type", "text/plain")}
            answer = httpx.request(
                method,
                f"{target}{upstream}" + (f"?{query}" if query else ""),
                content=body,
                headers=headers,
                timeout=30,
            )
            self.send_response(answer.status_code)
            self.send_header("Content-Length", str(len(answer.content)))
            self.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
            self.end_headers()
            self.wfile.write(answer.content)

        def do_GET(self) -> None:
            self._forward("GET")

        def do_POST(self) -> None:
            self._forward("POST")

    return Handler


@contextmanager
def cluster_standin(single_node_url: str) -> Iterator[tuple[Component, Component]]:
    """(vminsert, vmselect) stand-ins in front of the single node at `single_node_url`."""
    servers = []
    components = []
    try:
        for role in ("insert", "select"):
            holder: list[Component] = []
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(role, single_node_url, holder))
            server.daemon_threads = True
            holder.append(Component(role, f"http://127.0.0.1:{server.server_address[1]}"))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            components.append(holder[0])
        yield components[0], components[1]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
