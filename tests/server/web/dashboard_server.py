"""A real `sabamon server` process on loopback, seeded through the Mackerel API.

Shared by the dashboard's HTTP tests and its browser tests (tests/browser).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.server.notify.receiver import Receiver
from tests.support.waiting import SERVER_START_TIMEOUT, free_port

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
    clock_scale: float = 1.0
    clock_anchor: float = 0.0

    def server_now(self) -> float:
        """The server's clock (SABAMON_CLOCK_SCALE times faster from its anchor)."""
        return self.clock_anchor + (time.time() - self.clock_anchor) * self.clock_scale

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


@contextmanager
def running_server(
    data_dir: Path,
    clock_scale: float = 1.0,
    public_host: str = "127.0.0.1",
    options: Sequence[str] = (),
    clock_anchor: float | None = None,
) -> Iterator[Dashboard]:
    """The server; with `clock_scale` 60 its minutes last a second, so the alert engine
    evaluates (and the delivery worker sends) within seconds; an earlier `clock_anchor`
    (default: now) starts its clock (clock_scale − 1) × (now − anchor) ahead. Its
    `--public-url` names `public_host` (the notifications' links), which `url` uses too;
    `options` are further command-line options."""
    port = free_port()
    anchor = time.time() if clock_anchor is None else clock_anchor
    env = {
        **os.environ,
        "SABAMON_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD,
        "SABAMON_BOOTSTRAP_API_KEY": API_KEY,
        "SABAMON_CLOCK_SCALE": str(clock_scale),
        "SABAMON_CLOCK_ANCHOR": str(anchor),
    }
    with (data_dir / "server.log").open("wb") as log:  # the process has its own copy
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
                "--public-url",
                f"http://{public_host}:{port}/",
                *options,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    url = f"http://{public_host}:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            assert process.poll() is None, (data_dir / "server.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server never answered /healthz"
            time.sleep(0.05)
        yield Dashboard(url, data_dir, process, clock_scale=clock_scale, clock_anchor=anchor)
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
        # sizes in 512-byte sectors, as /sys/block gives them; loop devices are noise
        "block_device": {
            "sda": {"size": "209715200"},
            "loop0": {"size": "0"},
            "loop1": {"size": "131072"},
            "sdb": {"size": "0"},
        },
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


def alert_from_monitor(dashboard: Dashboard, host_id: str, monitor_id: str, value: float) -> str:
    """Posts `value` as the host's loadavg5 each server minute, as an agent would, until
    the monitor's alert opens; returns its id. Needs a fast server clock (`clock_scale`)."""
    deadline = time.monotonic() + 60 * 3 / dashboard.clock_scale + 20
    with dashboard.api() as api:
        while True:
            alerts = api.get("/api/v0/alerts").json()["alerts"]
            found = [a["id"] for a in alerts if a["monitorId"] == monitor_id]
            if found:
                return str(found[0])
            assert time.monotonic() < deadline, f"monitor {monitor_id} raised no alert"
            point = {"hostId": host_id, "name": "loadavg5", "time": int(dashboard.server_now()),
                     "value": value}  # fmt: skip
            assert api.post("/api/v0/tsdb", json=[point]).status_code == 200
            time.sleep(0.2)  # the agent's posting cadence, a fifth of a server minute


def open_load_alert(dashboard: Dashboard, monitor_name: str, critical: float) -> str:
    """Creates a host monitor on loadavg5 over shop:web and drives web-1 past `critical`
    until its alert opens; returns the alert's id."""
    monitor = {"type": "host", "name": monitor_name, "metric": "loadavg5", "operator": ">",
               "critical": critical, "scopes": ["shop:web"]}  # fmt: skip
    with dashboard.api() as api:
        monitor_id = api.post("/api/v0/monitors", json=monitor).json()["id"]
    return alert_from_monitor(dashboard, dashboard.hosts["web-1"], monitor_id, 99.0)


def wait_for_sample(receiver: Receiver, timeout: float = 20.0) -> dict[str, Any]:
    """The test notification among what a webhook receiver got (alerts may arrive too)."""
    deadline = time.monotonic() + timeout
    while True:
        with receiver.lock:
            samples = [body for body in receiver.bodies if body.get("event") == "sample"]
        if samples:
            return samples[0]
        assert time.monotonic() < deadline, f"no test notification among {receiver.bodies}"
        time.sleep(0.05)
