"""Dashboard speed: a host page with 25 graphs over one week of 1-minute data.

Seeds a SQLite store directly (the API drops points older than 24 h), rolls it up, starts
a real `sabamon server`, then prints
  - the median latency of each graph's data request over one week (target < 50 ms),
  - the median time until every graph is drawn in headless chromium (target < 1.5 s),
  - the bytes transferred per page load (all responses, as sent: compressed when the server
    compresses) and per one-minute refresh of a relative range.
`--screenshot PATH` also saves the host page (docs/host-page.png in the README).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import worktree  # this tree's code first
from playwright.sync_api import Request, sync_playwright

from sabamon.server.cli import ORG_NAME, make_store
from sabamon.server.store.records import HostInput, Point
from sabamon.server.web.users import ensure_admin

WEEK = 7 * 86400
PASSWORD = "bench-password"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def metric_values(minute: int) -> dict[str, float]:
    """55 series that make 25 graphs: 3 system, 4 disks, 4 interfaces, 4 filesystems, 10
    custom."""
    day = math.sin(minute / 1440 * 2 * math.pi)
    wobble = math.sin(minute / 37)
    values = {
        "loadavg1": 1.2 + day + 0.3 * wobble, "loadavg5": 1.1 + day, "loadavg15": 1.0 + day,
        "cpu.user.percentage": 30 + 20 * day + 5 * wobble, "cpu.system.percentage": 8 + 2 * wobble,
        "cpu.iowait.percentage": 2 + wobble, "cpu.steal.percentage": 0.5,
        "cpu.idle.percentage": 359.5 - 20 * day - 6 * wobble,
        "memory.used": 6e9 + 1e9 * day, "memory.mem_available": 9e9 - 1e9 * day,
        "memory.total": 16e9,
    }  # fmt: skip
    for i, dev in enumerate(("sda", "sdb", "nvme0n1", "nvme1n1")):
        values[f"disk.{dev}.reads.delta"] = 40 + 30 * day + i * 5 + 8 * wobble
        values[f"disk.{dev}.writes.delta"] = 60 + 20 * day + i * 3
    for i, iface in enumerate(("eth0", "eth1", "bond0", "docker0")):
        values[f"interface.{iface}.rxBytes.delta"] = 2e6 * (1.5 + day) / (i + 1)
        values[f"interface.{iface}.txBytes.delta"] = 8e5 * (1.5 + day + 0.2 * wobble) / (i + 1)
    for i, fs in enumerate(("sda1", "sdb1", "nvme0n1p1", "nvme1n1p2")):
        values[f"filesystem.{fs}.size"] = 5e11
        values[f"filesystem.{fs}.used"] = 1e11 + 1e11 * i + minute * 1e5
    for i in range(10):
        values[f"custom.app{i}.requests.ok"] = 100 + 50 * day + i * 10
        values[f"custom.app{i}.requests.error"] = 2 + abs(wobble) * (i + 1)
    return values


async def seed(data_dir: Path, now: int) -> str:
    store = make_store(None, data_dir)
    await store.open()
    try:
        org, _ = await store.ensure_org(ORG_NAME)
        meta = {
            "kernel": {"name": "Linux", "release": "6.1.0-18-amd64", "machine": "x86_64",
                       "platform_name": "Debian", "platform_version": "12.5"},
            "cpu": [{"model_name": "AMD EPYC 7B13"} for _ in range(4)],
            "memory": {"total": "16384000kB"},
            "block_device": {"sda": {"size": "976773168"}, "nvme0n1": {"size": "1953525168"}},
            "agent-name": "sabamon-agent/0.1.0",
        }  # fmt: skip
        interfaces = [{"name": "eth0", "ipv4Addresses": ["192.0.2.10"]}]
        host = HostInput("app-01.example.net", meta=meta, interfaces=interfaces,
                         role_fullnames=["shop:app"])  # fmt: skip
        host_id = await store.create_host(org.id, host, now - WEEK)
        start, batch = now - WEEK, []
        for minute in range(WEEK // 60 + 1):
            t = start + minute * 60
            batch += [Point(host_id, n, t, v) for n, v in metric_values(minute).items()]
            if len(batch) >= 50_000 or minute == WEEK // 60:
                await store.series.write_points(org.id, "host", batch, t)
                batch = []
                print(f"seeding: {minute * 100 // (WEEK // 60)} %", end="\r", file=sys.stderr)
        print("\nrolling up", file=sys.stderr)
        while await store.series.compact(now):
            pass
        await ensure_admin(store, org.id, PASSWORD)
        return host_id
    finally:
        await store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sign_in(client: httpx.Client) -> None:
    page = client.get("/ui/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    form = {"username": "admin", "password": PASSWORD, "csrf": token[1]}
    assert client.post("/ui/login", data=form).status_code == 303


def data_latencies(url: str, host_id: str, graphs: list[str], now: int, rounds: int) -> list[float]:
    timings = []
    with httpx.Client(base_url=url, timeout=30) as client:
        sign_in(client)
        for _ in range(rounds):
            for graph in graphs:
                path = f"/ui/data/host/{host_id}/graph/{quote(graph, safe='')}"
                started = time.perf_counter()
                response = client.get(path, params={"from": now - WEEK, "to": now})
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
    return timings


def draw_times(
    url: str, host_id: str, rounds: int, screenshot: Path | None
) -> tuple[list[float], list[int], list[int]]:
    """Seconds until every graph is drawn, bytes per load, bytes per refresh."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium
        browser = chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(f"{url}/ui/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/hosts")
        timings, loads, refreshes = [], [], []
        transferred = [0]

        def count(request: Request) -> None:
            sizes = request.sizes()
            transferred[0] += sizes["responseBodySize"] + sizes["responseHeadersSize"]

        page.on("requestfinished", count)
        for _ in range(rounds):
            page.goto("about:blank")
            transferred[0] = 0
            page.goto(f"{url}/ui/hosts/{host_id}#1w")
            page.wait_for_selector("html[data-graphs-drawn='1']", state="attached", timeout=30_000)
            drawn = page.evaluate("performance.getEntriesByName('graphs-drawn-1')[0].startTime")
            assert page.locator("figure.graph[data-state=drawn]").count() == 25
            timings.append(drawn / 1000)
            loads.append(transferred[0])
            transferred[0] = 0
            # the minute's refresh; a page without an incremental one reloads every graph
            page.evaluate("window.sabamonRefreshNow ? window.sabamonRefreshNow()"
                          " : window.dispatchEvent(new HashChangeEvent('hashchange'))")  # fmt: skip
            page.wait_for_selector("html[data-graphs-drawn='2']", state="attached", timeout=30_000)
            refreshes.append(transferred[0])
        if screenshot is not None:
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(screenshot))
        browser.close()
    return timings, loads, refreshes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    now = int(time.time()) // 60 * 60
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        started = time.perf_counter()
        host_id = asyncio.run(seed(data_dir, now))
        print(f"seeded one week, 55 series, in {time.perf_counter() - started:.1f} s")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "sabamon.cli", "server", "--data", str(data_dir),
             "--listen", f"127.0.0.1:{port}", "--log-level", "warning"],
            env=worktree.child_env(SABAMON_BOOTSTRAP_PASSWORD=PASSWORD),
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.1)
            with httpx.Client(base_url=url) as client:
                sign_in(client)
                page = client.get(f"/ui/hosts/{host_id}").text
            graphs = re.findall(r'data-graph="([^"]+)"', page)
            print(f"graphs on the host page: {len(graphs)}")
            latencies = data_latencies(url, host_id, graphs, now, args.rounds)
            print(
                f"data request, one week (5-min step), {len(latencies)} requests: "
                f"median {statistics.median(latencies) * 1000:.1f} ms, "
                f"p90 {statistics.quantiles(latencies, n=10)[-1] * 1000:.1f} ms  (target < 50 ms)"
            )
            drawn, loads, refreshes = draw_times(url, host_id, args.rounds, args.screenshot)
            print(
                f"host page fully drawn, {len(graphs)} graphs, {args.rounds} loads: "
                f"median {statistics.median(drawn):.2f} s, max {max(drawn):.2f} s  (target < 1.5 s)"
            )
            print(
                f"bytes transferred per page load: median {statistics.median(loads) / 1e6:.3f} MB;"
                f" per refresh: median {statistics.median(refreshes) / 1e6:.3f} MB"
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
