"""The API with its series in a real VictoriaMetrics: the data path, and what agents see
while VictoriaMetrics is down or hung (503 + Retry-After at once, /healthz names it,
nothing acknowledged lost, writes resuming by themselves when it is back)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.server.api.api_server import free_socket, serve_in_thread

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.app import create_app
from sabamon.server.cli import bootstrap
from sabamon.server.store import Store
from sabamon.server.store.sqlite import SQLiteBackend
from sabamon.server.victoria.client import ClientLimits
from sabamon.server.victoria.endpoints import single_node
from sabamon.server.victoria.store import VictoriaSeriesStore

pytestmark = pytest.mark.victoria

QUICK = ClientLimits(connect_timeout=0.5, write_timeout=0.5, read_timeout=0.5)


@dataclass
class Api:
    url: str
    key: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-Api-Key": self.key}, timeout=10)


def make_store(data_dir: Path, victoria: VictoriaProcess) -> Store:
    series = VictoriaSeriesStore(single_node(victoria.url), limits=QUICK)
    return Store(SQLiteBackend(data_dir / "sabamon.db"), series_store=series)


@pytest.fixture
def api(tmp_path: Path, own_victoria: VictoriaProcess) -> Iterator[Api]:
    created = asyncio.run(bootstrap(make_store(tmp_path, own_victoria)))
    assert created is not None and created.org_id
    app = create_app(make_store(tmp_path, own_victoria), alerting=None)
    sock = free_socket()
    server, thread = serve_in_thread(app, sock)
    try:
        yield Api(f"http://127.0.0.1:{sock.getsockname()[1]}", created.key)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def post_minute(client: httpx.Client, host_id: str, at: int, value: float) -> httpx.Response:
    body = [
        {"hostId": host_id, "name": name, "time": at, "value": value}
        for name in ("loadavg5", "custom.app.requests", "memory.used")
    ]
    return client.post("/api/v0/tsdb", json=body)


def test_points_go_to_victoria_and_read_back_through_the_api(
    api: Api, own_victoria: VictoriaProcess
) -> None:
    now = int(time.time()) // 60 * 60
    with api.client() as client:
        host_id = client.post("/api/v0/hosts", json={"name": "web1", "meta": {}}).json()["id"]
        for minute in range(3):
            assert post_minute(client, host_id, now - 180 + 60 * minute, minute).status_code == 200
        assert client.post("/api/v0/services", json={"name": "shop", "memo": ""}).is_success
        answer = client.post(
            "/api/v0/services/shop/tsdb", json=[{"name": "orders", "time": now, "value": 3}]
        )
        assert answer.status_code == 200
        own_victoria.flush()
        got = client.get(
            f"/api/v0/hosts/{host_id}/metrics",
            params={"name": "custom.app.requests", "from": now - 3600, "to": now},
        ).json()
        assert got == {
            "metrics": [{"time": now - 180 + 60 * m, "value": float(m)} for m in range(3)]
        }
        names = client.get(f"/api/v0/hosts/{host_id}/metric-names").json()["names"]
        assert names == ["custom.app.requests", "loadavg5", "memory.used"]
        latest = client.get(
            "/api/v0/tsdb/latest", params={"hostId": host_id, "name": "loadavg5"}
        ).json()
        assert latest == {"tsdbLatest": {host_id: {"loadavg5": {"time": now - 60, "value": 2.0}}}}
        shop = client.get(
            "/api/v0/services/shop/metrics",
            params={"name": "orders", "from": now - 60, "to": now},
        ).json()
        assert shop == {"metrics": [{"time": now, "value": 3.0}]}
    exported = own_victoria_export(own_victoria, '{__name__="custom.app.requests"}')
    assert exported[0]["metric"]["host"] == host_id


def own_victoria_export(victoria: VictoriaProcess, match: str) -> list[dict[str, object]]:
    answer = httpx.post(
        victoria.url + "/api/v1/export", data={"match[]": match, "start": "1"}, timeout=10
    )
    return [httpx.Response(200, content=line).json() for line in answer.content.splitlines()]


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_victoria_down_answers_503_at_once_and_loses_nothing_acknowledged(
    api: Api, own_victoria: VictoriaProcess, fault: str
) -> None:
    now = int(time.time()) // 60 * 60
    acknowledged: list[int] = []
    with api.client() as client:
        host_id = client.post("/api/v0/hosts", json={"name": "web1", "meta": {}}).json()["id"]
        assert post_minute(client, host_id, now - 600, 0).status_code == 200
        acknowledged.append(now - 600)
        # an established host: its series are searchable before the fault (a series
        # created in the last second before a SIGSTOP read empty for the day after it in
        # VictoriaMetrics 1.79, its samples intact in /api/v1/export)
        own_victoria.flush()
        own_victoria.stop() if fault == "stopped" else own_victoria.pause()
        refused = []
        for minute in range(1, 4):  # an agent keeps these in its spool
            started = time.monotonic()
            answer = post_minute(client, host_id, now - 600 + 60 * minute, minute)
            assert answer.status_code == 503
            # within one 0.5 s deadline and the request itself, even on a loaded machine
            assert time.monotonic() - started < 3.0
            assert answer.headers["Retry-After"] == "10"
            assert answer.json() == {
                "error": {"message": "The series store is unavailable; retry later."}
            }
            refused.append(minute)
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {
            "status": f"series store unreachable: VictoriaMetrics {own_victoria.url}"
        }
        reading = client.get(
            f"/api/v0/hosts/{host_id}/metrics",
            params={"name": "loadavg5", "from": now - 3600, "to": now},
        )
        assert reading.status_code == 503
        own_victoria.start() if fault == "stopped" else own_victoria.resume()
        for minute in refused:  # the spool posts again; no restart of the server
            at = now - 600 + 60 * minute
            assert post_minute(client, host_id, at, minute).status_code == 200
            acknowledged.append(at)
        assert client.get("/healthz").status_code == 200
        own_victoria.flush()
        got = client.get(
            f"/api/v0/hosts/{host_id}/metrics",
            params={"name": "loadavg5", "from": now - 3600, "to": now},
        ).json()["metrics"]
    assert [point["time"] for point in got] == acknowledged
    assert [point["value"] for point in got] == [0.0, 1.0, 2.0, 3.0]
