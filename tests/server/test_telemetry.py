"""/metrics under several workers: one scrape sums what every worker counted."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from tests.support.prometheus import sample, total
from tests.support.server import API_KEY, running_server
from tests.support.waiting import wait_until

HOSTS_OK = {"method": "GET", "route": "/api/v0/hosts", "status": "200"}


def per_worker(metrics_dir: Path, scratch: Path) -> dict[int, float]:
    """Requests to /api/v0/hosts counted by each worker alone, by its pid."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        alone = scratch / str(pid)
        alone.mkdir()
        shutil.copy(path, alone)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        text = generate_latest(registry).decode()
        counts[pid] = sample(text, "sabamon_http_requests_total", **HOSTS_OK) or 0.0
    return counts


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
                workers = per_worker(metrics_dir, scratch)
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
