"""A real `sabamon server` process on loopback, seeded through the Mackerel API.

Shared by the dashboard's HTTP tests and its browser tests (tests/browser).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ADMIN_PASSWORD = "correct horse battery"
API_KEY = "test-key-0123456789abcdef0123456789abcdef"
XSS_NAME = "<script>alert(1)</script>"
SEED_MINUTES = 180


@dataclass
class Dashboard:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    hosts: dict[str, str] = field(default_factory=dict)  # name -> id
    now: int = 0

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-Api-Key": API_KEY}, timeout=10)

    @contextmanager
    def signed_in(
        self, user: str = "admin", password: str = ADMIN_PASSWORD
    ) -> Iterator[httpx.Client]:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            response = sign_in(client, user, password)
            assert response.status_code == 303, response.text
            yield client


def login_csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no csrf field in the page"
    return match[1]


def sign_in(
    client: httpx.Client, user: str, password: str, next_: str = "/ui/hosts"
) -> httpx.Response:
    page = client.get("/ui/login")
    return client.post(
        "/ui/login",
        data={"username": user, "password": password, "csrf": login_csrf(page.text), "next": next_},
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(data_dir: Path) -> Iterator[Dashboard]:
    port = free_port()
    env = {
        **os.environ,
        "SABAMON_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD,
        "SABAMON_BOOTSTRAP_API_KEY": API_KEY,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sabamon.cli",
            "server",
            "--data",
            str(data_dir),
            "--listen",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(data_dir / "server.log", "wb"),  # noqa: SIM115 - the process owns it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (data_dir / "server.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer within 30 s"
            time.sleep(0.05)
        yield Dashboard(url, data_dir, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _meta(cpus: int) -> dict[str, object]:
    return {
        "agent-name": "sabamon-agent/0.1.0",
        "kernel": {
            "name": "Linux",
            "release": "6.1.0",
            "machine": "x86_64",
            "platform_name": "Debian",
            "platform_version": "12",
        },
        "cpu": [{"model_name": "Test CPU @ 2.0GHz"} for _ in range(cpus)],
        "memory": {"total": "8000000kB"},
        "block_device": {"sda": {"size": "209715200"}},
    }


def _system_points(host_id: str, minute: int, t: int) -> list[dict[str, object]]:
    wave = (minute % 60) / 60
    values = {
        "loadavg1": 0.5 + wave,
        "loadavg5": 0.4 + wave / 2,
        "loadavg15": 0.3,
        "cpu.user.percentage": 20 + 10 * wave,
        "cpu.system.percentage": 5.0,
        "cpu.iowait.percentage": 1.0,
        "cpu.idle.percentage": 174 - 10 * wave,
        "memory.total": 8.192e9,
        "memory.used": 2e9 + 1e9 * wave,
        "memory.mem_available": 5e9,
        "disk.sda.reads.delta": 3 + wave,
        "disk.sda.writes.delta": 7.0,
        "interface.eth0.rxBytes.delta": 2e5 * (1 + wave),
        "interface.eth0.txBytes.delta": 1e5,
        "filesystem.sda1.size": 1e11,
        "filesystem.sda1.used": 4e10,
        "custom.queue.mail.waiting": 10 + minute % 7,
        "custom.queue.mail.running": 2.0,
        "custom.queue.sms.waiting": 3.0,
        "custom.queue.sms.running": 1.0,
        "custom.misc.temperature": 40.0,
    }
    return [{"hostId": host_id, "name": n, "time": t, "value": v} for n, v in values.items()]


def seed(dashboard: Dashboard) -> None:
    """Three hosts (one with a hostile name), an hour-scale series each, graph defs, a check."""
    now = int(time.time()) // 60 * 60
    dashboard.now = now
    with dashboard.api() as api:
        for name, role, cpus in (
            ("web-1", "shop:web", 2),
            ("db-1", "shop:db", 4),
            (XSS_NAME, "shop:web", 1),
        ):
            body = {
                "name": name,
                "meta": _meta(cpus),
                "roleFullnames": [role],
                "interfaces": [{"name": "eth0", "ipv4Addresses": ["10.0.0.5"]}],
                "checks": [{"name": "http"}],
            }
            response = api.post("/api/v0/hosts", json=body)
            assert response.status_code == 200, response.text
            dashboard.hosts[name] = response.json()["id"]
        response = api.post(
            "/api/v0/graph-defs/create",
            json=[
                {
                    "name": "custom.queue.#",
                    "displayName": "Queue",
                    "unit": "integer",
                    "metrics": [
                        {
                            "name": "custom.queue.#.waiting",
                            "displayName": "%1 waiting",
                            "isStacked": True,
                        },
                        {"name": "custom.queue.#.running", "isStacked": True},
                    ],
                },
            ],
        )
        assert response.status_code == 200, response.text
        batch: list[dict[str, object]] = []
        for minute in range(SEED_MINUTES):
            t = now - (SEED_MINUTES - 1 - minute) * 60
            for host_id in dashboard.hosts.values():
                batch += _system_points(host_id, minute, t)
            if len(batch) > 5000:
                assert api.post("/api/v0/tsdb", json=batch).status_code == 200
                batch = []
        if batch:
            assert api.post("/api/v0/tsdb", json=batch).status_code == 200
        orders = [{"name": "orders.count", "time": now - m * 60, "value": m % 5} for m in range(60)]
        assert api.post("/api/v0/services/shop/tsdb", json=orders).status_code == 200
        report = {
            "reports": [
                {
                    "source": {"type": "host", "hostId": dashboard.hosts["web-1"]},
                    "name": "http",
                    "status": "CRITICAL",
                    "message": "HTTP 503 <b>down</b>",
                    "occurredAt": now,
                }
            ]
        }
        assert api.post("/api/v0/monitoring/checks/report", json=report).status_code == 200


def seed_alert(dashboard: Dashboard) -> str:
    """An open CRITICAL alert on web-1, written through the store: the alert engine is
    exercised by its own tests; here only the page that shows and closes it is."""
    import asyncio
    import concurrent.futures

    from sabamon.server.cli import ORG_NAME, make_store
    from sabamon.server.store.alerts_types import AlertRecord, TargetWrite
    from sabamon.server.store.base import new_id

    async def write() -> str:
        store = make_store(None, dashboard.data_dir)
        await store.open()
        try:
            org, _ = await store.ensure_org(ORG_NAME)
            host_id = dashboard.hosts["web-1"]
            alert = AlertRecord(
                new_id(), new_id(), host_id, "host", host_id, "CRITICAL", dashboard.now, value=97.5
            )
            write = TargetWrite(alert.monitor_id, host_id, dashboard.now, {}, alerts=[alert])
            await store.commit_targets(org.id, [write], dashboard.now)
            return alert.id
        finally:
            await store.close()

    # Playwright's sync API owns this thread's event loop, so the store runs on another.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, write()).result()
