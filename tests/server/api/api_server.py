"""Running a sabamon app on a loopback port in a thread, for the API tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from sabamon.server.cli import make_store
from sabamon.server.store import Store
from sabamon.server.store.series import DEFAULT_MAX_SERIES


@dataclass
class Backend:
    name: str
    db_url: str | None
    data_dir: Path

    def store(self, max_series_per_org: int = DEFAULT_MAX_SERIES) -> Store:
        return make_store(self.db_url, self.data_dir, max_series_per_org=max_series_per_org)


class ManualClock:
    """The server's clock, moved by the test; starts at the real time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class RunningApi:
    url: str
    write_key: str
    read_key: str
    clock: ManualClock
    backend: Backend

    def client(self, key: str | None = "write") -> httpx.Client:
        headers = {}
        if key is not None:
            headers["X-Api-Key"] = {"write": self.write_key, "read": self.read_key}.get(key, key)
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


def serve_in_thread(app: object, sock: socket.socket) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(app, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    return server, thread
