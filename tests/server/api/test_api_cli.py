"""`sabamon server` and `sabamon apikey` as subprocesses, and kill -9 during ingest."""

from __future__ import annotations

import signal
import stat
import threading
import time

import httpx
from api_helpers import ok, register, series
from api_server import Backend
from server_process import ServerProcess, sabamon, where


def test_first_start_bootstraps_once_and_apikey_commands(
    backend: Backend, servers: list[ServerProcess]
) -> None:
    server = ServerProcess(backend, {"SABAMON_BOOTSTRAP_API_KEY": ""})
    servers.append(server)
    key_file = backend.data_dir / "apikey"
    key = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with httpx.Client(base_url=server.url, headers={"X-Api-Key": key}) as http:
        register(http, "a")
    server.stop()
    assert server.process.stdout is not None and key in server.process.stdout.read()

    again = ServerProcess(backend, {"SABAMON_BOOTSTRAP_API_KEY": ""})  # no second key
    servers.append(again)
    assert key_file.read_text().strip() == key
    assert again.process.poll() is None

    read_only = sabamon("apikey", "create", "--read-only", *where(backend)).stdout.strip()
    listed = sabamon("apikey", "list", *where(backend)).stdout
    assert f"{key}\twrite" in listed and f"{read_only}\tread-only" in listed
    with httpx.Client(base_url=again.url, headers={"X-Api-Key": read_only}) as http:
        assert len(ok(http.get("/api/v0/hosts"))["hosts"]) == 1
        assert http.post("/api/v0/hosts", json={"name": "b"}).status_code == 403
    assert sabamon("apikey", "revoke", read_only, *where(backend)).returncode == 0
    assert read_only not in sabamon("apikey", "list", *where(backend)).stdout
    assert sabamon("apikey", "revoke", "nosuchkey", *where(backend)).returncode == 1
    assert sabamon("apikey", "create").returncode == 2


def test_kill_9_during_ingest_loses_no_acknowledged_point(
    backend: Backend, servers: list[ServerProcess]
) -> None:
    key = "test-bootstrap-key-0123456789"
    env = {"SABAMON_BOOTSTRAP_API_KEY": key}
    server = ServerProcess(backend, env)
    servers.append(server)
    headers = {"X-Api-Key": key}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        host_id = register(http, "ingest")
    base = (int(time.time()) // 60 - 180) * 60
    names = [f"m.{index}" for index in range(60)]
    acknowledged: list[int] = []
    enough = threading.Event()

    def post_batches() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=5) as http:
            for minute in range(170):
                at = base + minute * 60
                body = [{"hostId": host_id, "name": n, "time": at, "value": minute} for n in names]
                try:
                    response = http.post("/api/v0/tsdb", json=body)
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    acknowledged.append(minute)
                if len(acknowledged) >= 40:
                    enough.set()
            enough.set()

    poster = threading.Thread(target=post_batches)
    poster.start()
    assert enough.wait(60)
    server.stop(signal.SIGKILL)
    poster.join(30)
    assert len(acknowledged) >= 40

    restarted = ServerProcess(backend, env)
    servers.append(restarted)
    with httpx.Client(base_url=restarted.url, headers=headers) as http:
        for name in names:
            stored = {
                p["time"]: p["value"] for p in series(http, host_id, name, base, base + 170 * 60)
            }
            missing = [m for m in acknowledged if stored.get(base + m * 60) != m]
            assert not missing, (name, missing[:5])
