"""A database that stops answering and a key revoked elsewhere, on real server processes:
/healthz names the failing part within a second, and a revoked key stops working on
every worker within a second."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.support.server import running_server

pytestmark = pytest.mark.alone  # answers within a second

POSTGRES = ("127.0.0.1", 5432)


@contextmanager
def silencing_proxy(
    target: tuple[str, int],
) -> Iterator[tuple[int, threading.Event, threading.Event]]:
    """A TCP proxy to `target`, yielded as (port, silent, cut): once `silent` is set it
    forwards nothing more in either direction and keeps every connection open (a database
    behind a dead link); once `cut` is set (or on exit) it closes them all."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    silent, stop = threading.Event(), threading.Event()

    def pump(source: socket.socket, sink: socket.socket) -> None:
        while not stop.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if not silent.is_set():
                try:
                    sink.sendall(data)
                except OSError:
                    break
        for sock in (source, sink):
            sock.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(target)
            # Set before either pump starts: the first pump to end closes both sockets.
            client.settimeout(0.1)
            upstream.settimeout(0.1)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(source, sink), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], silent, stop
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


@pytest.mark.postgres
def test_healthz_names_an_unanswering_database_within_a_second(
    tmp_path: Path, postgres_dsn: str
) -> None:
    with (
        silencing_proxy(POSTGRES) as (port, silent, cut),
        running_server(
            tmp_path / "data", "--db", postgres_dsn.replace(":5432/", f":{port}/")
        ) as server,
    ):
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
        silent.set()
        for _ in range(3):
            started = time.monotonic()
            answer = httpx.get(server.url + "/healthz", timeout=5)
            assert time.monotonic() - started < 1.0
            assert answer.status_code == 503
            assert answer.json() == {"status": "store unreachable"}
        cut.set()  # the server's shutdown then meets closed connections, not a dead link


def test_a_revoked_key_stops_working_on_every_worker_within_a_second(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_server(data, "--workers", "2") as server:
        command = [sys.executable, "-m", "sabamon.cli", "apikey"]
        created = subprocess.run(
            [*command, "create", "--data", str(data)], capture_output=True, text=True, check=True
        )
        key = created.stdout.strip()
        headers = {"X-Api-Key": key}
        for _ in range(20):  # every worker has the key in its cache now
            assert httpx.get(server.url + "/api/v0/hosts", headers=headers).status_code == 200
        subprocess.run([*command, "revoke", "--data", str(data), key], check=True, env=os.environ)
        revoked = time.monotonic()
        time.sleep(max(0.0, revoked + 1.05 - time.monotonic()))  # the bound under test
        statuses = {
            httpx.get(server.url + "/api/v0/hosts", headers=headers).status_code
            for _ in range(20)  # a new connection each: both workers answer some
        }
        assert statuses == {401}
