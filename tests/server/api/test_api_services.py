"""Services, roles and service metrics (spec §4)."""

from __future__ import annotations

import time

import httpx
from api_helpers import error, ok


def test_service_and_role_lifecycle(client: httpx.Client) -> None:
    assert ok(client.post("/api/v0/services", json={"name": "shop", "memo": "m"})) == {
        "name": "shop",
        "memo": "m",
        "roles": [],
    }
    error(client.post("/api/v0/services", json={"name": "shop"}), 400)  # exists
    for bad in ("-x", "a", "x y", "a" * 64, "_x", "x';--"):
        assert "name" in error(client.post("/api/v0/services", json={"name": bad}), 400)
    assert ok(client.post("/api/v0/services/shop/roles", json={"name": "web", "memo": "w"})) == {
        "name": "web",
        "memo": "w",
    }
    ok(client.post("/api/v0/services/shop/roles", json={"name": "db"}))
    error(client.post("/api/v0/services/nosuch/roles", json={"name": "db"}), 404)
    assert ok(client.get("/api/v0/services/shop/roles"))["roles"] == [
        {"name": "db", "memo": ""},
        {"name": "web", "memo": "w"},
    ]
    assert ok(client.get("/api/v0/services"))["services"] == [
        {"name": "shop", "memo": "m", "roles": ["db", "web"]}
    ]
    error(client.get("/api/v0/services/nosuch/roles"), 404)
    assert ok(client.delete("/api/v0/services/shop/roles/web")) == {"name": "web", "memo": "w"}
    error(client.delete("/api/v0/services/shop/roles/web"), 404)
    assert ok(client.delete("/api/v0/services/shop")) == {
        "name": "shop",
        "memo": "m",
        "roles": ["db"],
    }
    error(client.delete("/api/v0/services/shop"), 404)
    assert ok(client.get("/api/v0/services"))["services"] == []


def test_service_metrics(client: httpx.Client) -> None:
    ok(client.post("/api/v0/services", json={"name": "shop"}))
    t = (int(time.time()) // 60 - 3) * 60
    body = [
        {"name": "orders.count", "time": t, "value": 3},
        {"name": "__externalhttp.responsetime.abc", "time": t, "value": 120},
        {"name": "orders.count", "time": t + 60.5, "value": 5},
    ]
    assert ok(client.post("/api/v0/services/shop/tsdb", json=body)) == {"success": True}
    names = ok(client.get("/api/v0/services/shop/metric-names"))["names"]
    assert names == ["orders.count"]
    params = {"name": "orders.count", "from": t, "to": t + 60}
    assert ok(client.get("/api/v0/services/shop/metrics", params=params))["metrics"] == [
        {"time": t, "value": 3.0},
        {"time": t + 60, "value": 5.0},
    ]
    error(client.get("/api/v0/services/nosuch/metrics", params=params), 404)
    error(client.get("/api/v0/services/shop/metrics", params={**params, "name": "x"}), 404)
    error(client.post("/api/v0/services/nosuch/tsdb", json=body[:1]), 404)
    bad = [body[0], {"name": "bad name", "time": t + 120, "value": 1}]
    message = error(client.post("/api/v0/services/shop/tsdb", json=bad), 400)
    assert message.startswith("1 points refused, 1 stored: [1].name: ")  # a partial write
    after = ok(client.get("/api/v0/services/shop/metrics", params={**params, "to": t + 120}))[
        "metrics"
    ]
    assert [p["time"] for p in after] == [t, t + 60]


def test_deleting_a_service_graph_deletes_the_metrics_it_shows(client: httpx.Client) -> None:
    ok(client.post("/api/v0/services", json={"name": "shop"}))
    t = int(time.time()) // 60 * 60 - 120
    names = ["custom.req.get", "custom.req.post", "custom.req.slow.p99", "custom.err.count"]
    ok(
        client.post(
            "/api/v0/services/shop/tsdb",
            json=[{"name": name, "time": t, "value": 1} for name in names],
        )
    )
    ok(client.delete("/api/v0/services/shop/graph-defs/custom.req.*"))
    remaining = ok(client.get("/api/v0/services/shop/metric-names"))["names"]
    assert remaining == ["custom.err.count", "custom.req.slow.p99"]  # one segment per `*`
    error(client.get("/api/v0/services/shop/metrics?name=custom.req.get&from=0&to=" + str(t)), 404)
    ok(client.delete("/api/v0/services/shop/graph-defs/custom.req.*"))  # nothing left: still 200
    ok(client.delete("/api/v0/services/shop/graph-defs/custom.req.slow"))  # a graph's id
    assert ok(client.get("/api/v0/services/shop/metric-names"))["names"] == ["custom.err.count"]
    error(client.delete("/api/v0/services/nosuch/graph-defs/custom.req.*"), 404)

    ok(
        client.post(
            "/api/v0/services/shop/tsdb", json=[{"name": "custom.req.get", "time": t, "value": 2}]
        )
    )
    got = ok(client.get(f"/api/v0/services/shop/metrics?name=custom.req.get&from={t}&to={t}"))
    assert got["metrics"] == [{"time": t, "value": 2.0}]  # recreated by the next post
