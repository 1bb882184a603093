"""/metrics under several workers: one scrape sums what every worker counted, queue depths
included, and shows what sealing and notification delivery are doing."""

from __future__ import annotations

import http.client
import json
import shutil
import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from tests.support.prometheus import sample, total
from tests.support.server import API_KEY, running_server
from tests.support.waiting import free_port, wait_until

HOSTS_OK = {"method": "GET", "route": "/api/v0/hosts", "status": "200"}
KEY = {"X-Api-Key": API_KEY}
DEPTH = "sabamon_queue_depth"
WAVE = 8
"""Posts of each kind in a wave."""
IN_FLIGHT = "sabamon_http_requests_in_flight"


def per_worker(
    metrics_dir: Path, scratch: Path, files: str, name: str, **labels: str
) -> dict[int, float]:
    """One sample as each worker alone holds it (in its `files`, e.g. "counter"), by pid."""
    values = {}
    for path in metrics_dir.glob(f"{files}_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        alone = scratch / f"{files}-{pid}"
        alone.mkdir(parents=True)
        shutil.copy(path, alone)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        text = generate_latest(registry).decode()
        values[pid] = sample(text, name, **labels) or 0.0
    return values


def scrape(url: str) -> str:
    return httpx.get(f"{url}/metrics", timeout=10).text


def get_hosts(url: str) -> None:
    """One request on a connection of its own, so the workers share them out."""
    response = httpx.get(f"{url}/api/v0/hosts", headers={"X-Api-Key": API_KEY}, timeout=10)
    assert response.status_code == 200


def test_a_scrape_sums_every_worker(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    metrics_dir = data_dir / "worker-metrics"
    stale = metrics_dir / "counter_1.db"
    metrics_dir.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier run")
    sent = 0
    with running_server(data_dir, "--workers", "2") as server:
        assert not stale.exists()
        workers: dict[int, float] = {}
        with ThreadPoolExecutor(8) as pool:

            def both_workers_served() -> bool:
                nonlocal sent, workers
                list(pool.map(get_hosts, [server.url] * 40))
                sent += 40
                scratch = tmp_path / f"scratch-{sent}"
                scratch.mkdir()
                workers = per_worker(
                    metrics_dir, scratch, "counter", "sabamon_http_requests_total", **HOSTS_OK
                )
                return sum(count > 0 for count in workers.values()) >= 2

            wait_until(both_workers_served, timeout=30, what="both workers to serve requests")

        def scraped() -> float:
            text = httpx.get(f"{server.url}/metrics", timeout=10).text
            return sample(text, "sabamon_http_requests_total", **HOSTS_OK) or 0.0

        wait_until(lambda: scraped() == sent, timeout=5, what=f"{sent} requests on /metrics")
        text = httpx.get(f"{server.url}/metrics", timeout=10).text
        assert (
            total(text, "sabamon_http_request_duration_seconds_count", route="/api/v0/hosts")
            == sent
        )
        assert sample(text, "sabamon_series") == 0
        assert sum(workers.values()) <= sent
    assert not list(metrics_dir.glob("gauge_live*")), "a stopped worker left its live gauges"


@pytest.mark.alone  # the store stays locked for less than its writers wait (10 s)
def test_queue_depths_sum_the_workers(tmp_path: Path) -> None:
    """SQLite's write lock held from outside: posted batches wait for a flusher and new
    hosts for the writer thread; a scrape shows the sum of the workers' queues (each
    worker's own figure read from its file alone), which empty once the lock is let go."""
    data_dir = tmp_path / "data"
    metrics_dir = data_dir / "worker-metrics"
    with (
        running_server(data_dir, "--workers", "2", "--max-wait", "60") as server,
        server.client() as api,
        ThreadPoolExecutor(3 * WAVE) as pool,
    ):
        host_id = api.post("/api/v0/hosts", json={"name": "web", "meta": {}}).json()["id"]
        point = [{"hostId": host_id, "name": "custom.queued", "time": int(time.time()), "value": 1}]
        port = int(server.url.rsplit(":", 1)[1])
        posts: list[Future[int]] = []

        def post(path: str, body: object) -> int:
            """POSTs on a connection of its own; the status."""
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                headers = {**KEY, "Content-Type": "application/json"}
                connection.request("POST", path, json.dumps(body), headers)
                return connection.getresponse().status
            finally:
                connection.close()

        def summed(queue: str) -> bool:
            """The scrape (its worker notes its own queues first) sums every worker's."""
            scratch = tmp_path / f"scratch-{queue}-{time.monotonic_ns()}"
            alone = per_worker(metrics_dir, scratch, "gauge_livesum", DEPTH, queue=queue)
            scraped = sample(scrape(server.url), DEPTH, queue=queue)
            return scraped == sum(alone.values()) > 0 and len(alone) == 2

        def arrived() -> bool:  # every post sent is being answered (this scrape too)
            return sample(scrape(server.url), IN_FLIGHT) == len(posts) + 1

        def both_workers_sample() -> bool:  # each samples its queues once it has started
            return len(list(metrics_dir.glob("gauge_livesum_*.db"))) == 2

        wait_until(both_workers_sample, timeout=30, what="both workers to start")
        lock = sqlite3.connect(data_dir / "sabamon.db", isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")  # the server's writers wait up to 10 s for it
            # Each worker's flusher takes the batches there first and waits for the writer,
            # which waits for the lock; what comes after waits in the queues.
            posts.extend(pool.submit(post, "/api/v0/tsdb", point) for _ in range(WAVE))
            wait_until(arrived, timeout=3, what="the first posts to arrive")
            for _ in range(WAVE):
                posts.append(pool.submit(post, "/api/v0/tsdb", point))
                posts.append(pool.submit(post, "/api/v0/hosts", {"name": "db", "meta": {}}))
            wait_until(arrived, timeout=3, what="the later posts to arrive")
            wait_until(
                lambda: summed("point_writes") and summed("store_writes"),
                timeout=3,
                what="the waiting work summed on /metrics",
            )
        finally:
            lock.close()
        assert [done.result() for done in posts] == [200] * len(posts)

        def emptied() -> bool:
            return total(scrape(server.url), DEPTH) == 0

        wait_until(emptied, timeout=5, what="the queues to empty")


def test_sealing_and_pending_deliveries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Points of a closed hour are sealed by the next maintenance pass (a second, on a clock
    60 times as fast): /metrics counts the points and chunks and times the transaction; a
    notification to a receiver that refuses is pending until it is given up."""
    monkeypatch.setenv("SABAMON_CLOCK_SCALE", "60")
    refusing = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    with (
        running_server(tmp_path / "data", "--workers", "2") as server,
        server.client() as http,
    ):
        host_id = http.post("/api/v0/hosts", json={"name": "web", "meta": {}}).json()["id"]
        hour = (int(time.time()) - 3 * 3600) // 3600 * 3600
        points = [
            {"hostId": host_id, "name": f"custom.sealed.m{m}", "time": hour + 60 * i, "value": i}
            for m in range(3)
            for i in range(30)
        ]
        assert http.post("/api/v0/tsdb", json=points).status_code == 200
        channel = http.post(
            "/api/v0/channels",
            json={"type": "webhook", "name": "down", "url": refusing, "events": ["alert"]},
        ).json()
        assert http.post(f"/api/v0/channels/{channel['id']}/test").status_code == 200

        def sealed() -> bool:
            return sample(scrape(server.url), "sabamon_sealed_points_total") == 90

        wait_until(sealed, timeout=20, what="90 points sealed on /metrics")
        text = scrape(server.url)
        assert sample(text, "sabamon_sealed_chunks_total") == 3  # one chunk per series
        assert (sample(text, "sabamon_seal_duration_seconds_count") or 0) >= 1

        def retried() -> bool:
            text = scrape(server.url)
            retries = sample(
                text, "sabamon_notifications_total", channel_type="webhook", outcome="retry"
            )
            return bool(retries) and sample(text, "sabamon_notification_deliveries_pending") == 1

        wait_until(retried, timeout=20, what="a pending delivery retried")
