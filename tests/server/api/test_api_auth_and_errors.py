"""Keys (401, 403), unknown routes (404), the error shape, /healthz and /metrics."""

from __future__ import annotations

import httpx
from api_helpers import error, ok, register
from api_server import RunningApi
from tests.support.prometheus import sample, total

AUTH_FAILED = "Authentication failed. Please try with valid Api Key."


def test_missing_or_invalid_key_is_401(api: RunningApi) -> None:
    for key in (None, "nosuchkey", "' OR '1'='1"):
        with api.client(key) as http:
            assert error(http.get("/api/v0/hosts"), 401) == AUTH_FAILED
            assert error(http.post("/api/v0/hosts", json={"name": "x"}), 401) == AUTH_FAILED
    with api.client() as http:
        assert ok(http.get("/api/v0/hosts"))["hosts"] == []


def test_read_only_key_reads_and_gets_403_on_every_write(api: RunningApi) -> None:
    with api.client("write") as writer:
        host_id = register(writer, "a")
    with api.client("read") as reader:
        assert ok(reader.get(f"/api/v0/hosts/{host_id}"))["host"]["id"] == host_id
        writes = [
            ("POST", "/api/v0/hosts", {"name": "b"}),
            ("PUT", f"/api/v0/hosts/{host_id}", {"name": "b"}),
            ("POST", f"/api/v0/hosts/{host_id}/retire", {}),
            ("POST", "/api/v0/tsdb", [{"hostId": host_id, "name": "m", "time": 1, "value": 1}]),
            ("POST", "/api/v0/services", {"name": "svc"}),
            ("DELETE", "/api/v0/graph-defs", {"name": "custom.x"}),
            ("PUT", f"/api/v0/hosts/{host_id}/metadata/ns", {"a": 1}),
            ("POST", "/api/v0/monitoring/checks/report", {"reports": []}),
        ]
        for method, path, body in writes:
            response = reader.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
            assert "write" in error(response, 403)
        host = ok(reader.get(f"/api/v0/hosts/{host_id}"))["host"]
        assert host["name"] == "a" and not host["isRetired"]
        assert [h["id"] for h in ok(reader.get("/api/v0/hosts"))["hosts"]] == [host_id]
        assert ok(reader.get("/api/v0/services"))["services"] == []


def test_unknown_route_and_method_are_404_in_mackerel_shape(client: httpx.Client) -> None:
    assert error(client.get("/api/v0/nothing-here"), 404) == "Not found."
    assert error(client.post("/api/v0/hosts/x/y/z", json={}), 404) == "Not found."
    assert error(client.delete("/api/v0/hosts"), 404) == "Not found."


def test_healthz_and_prometheus_metrics(client: httpx.Client) -> None:
    assert ok(client.get("/healthz")) == {"status": "ok"}
    client.get("/api/v0/hosts/nosuchhost1")
    text = client.get("/metrics").text
    labels = {"method": "GET", "route": "/api/v0/hosts/{host_id}", "status": "404"}
    assert sample(text, "sabamon_http_requests_total", **labels) == 1
    assert total(text, "sabamon_http_request_duration_seconds_count", route=labels["route"]) == 1
    assert "sabamon_write_seconds_bucket" in text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
