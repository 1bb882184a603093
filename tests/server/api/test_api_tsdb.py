"""POST /api/v0/tsdb and the reads: idempotence, the 24 h window and the replay window,
partial writes."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from api_helpers import error, ok, register, series
from api_server import RunningApi
from tests.support.prometheus import sample

from sabamon.server.store import Store


def minute(offset: int = 0) -> int:
    return (int(time.time()) // 60 + offset) * 60


def test_post_read_overwrite_and_float_time(client: httpx.Client) -> None:
    host_id = register(client, "a")
    t = minute(-5)
    points = [
        {"hostId": host_id, "name": "loadavg5", "time": t + 60 * i, "value": i} for i in range(3)
    ]
    assert ok(client.post("/api/v0/tsdb", json=points)) == {"success": True}
    ok(
        client.post(
            "/api/v0/tsdb",
            json=[{"hostId": host_id, "name": "loadavg5", "time": t + 0.7, "value": 9.5}],
        )
    )
    assert series(client, host_id, "loadavg5", t, t + 120) == [
        {"time": t, "value": 9.5},
        {"time": t + 60, "value": 1.0},
        {"time": t + 120, "value": 2.0},
    ]
    assert ok(client.get(f"/api/v0/hosts/{host_id}/metric-names"))["names"] == ["loadavg5"]
    error(
        client.get(
            f"/api/v0/hosts/{host_id}/metrics", params={"name": "nosuch", "from": t, "to": t + 60}
        ),
        404,
    )
    error(
        client.get(
            "/api/v0/hosts/nosuchhost1/metrics",
            params={"name": "loadavg5", "from": t, "to": t + 60},
        ),
        404,
    )
    error(
        client.get(
            f"/api/v0/hosts/{host_id}/metrics", params={"name": "loadavg5", "from": t + 60, "to": t}
        ),
        400,
    )


def test_latest_with_repeated_parameters(client: httpx.Client) -> None:
    a, b = register(client, "a"), register(client, "b")
    t = minute(-3)
    ok(
        client.post(
            "/api/v0/tsdb",
            json=[
                {"hostId": a, "name": "x", "time": t, "value": 1},
                {"hostId": a, "name": "x", "time": t + 60, "value": 2},
                {"hostId": b, "name": "y", "time": t, "value": 3},
            ],
        )
    )
    latest = ok(client.get("/api/v0/tsdb/latest", params={"hostId": [a, b], "name": ["x", "y"]}))[
        "tsdbLatest"
    ]
    assert latest[a]["x"] == {"time": t + 60, "value": 2.0}
    assert latest[b]["y"] == {"time": t, "value": 3.0}
    assert "y" not in latest.get(a, {})
    error(client.get("/api/v0/tsdb/latest", params={"hostId": a}), 400)


def test_latest_asks_for_at_most_10000_host_name_pairs(client: httpx.Client) -> None:
    host_id = register(client, "a")
    ok(client.post("/api/v0/tsdb", json=[{"hostId": host_id, "name": "m0", "time": minute(-1),
                                          "value": 1}]))  # fmt: skip
    hosts = [host_id] + [f"nosuch{index}" for index in range(99)]
    names = [f"m{index}" for index in range(100)]
    params = {"hostId": hosts * 3, "name": names * 3}  # repeats count once
    latest = ok(client.get("/api/v0/tsdb/latest", params=params))["tsdbLatest"]
    assert latest[host_id]["m0"]["value"] == 1.0
    params = {"hostId": [*hosts, "one-more"], "name": names}
    message = error(client.get("/api/v0/tsdb/latest", params=params), 400)
    assert message == (
        "hostId, name: at most 10000 hostId × name pairs per request (101 hostId × 100 name asked)"
    )


def test_points_outside_24h_are_dropped_and_counted(client: httpx.Client) -> None:
    host_id = register(client, "a")
    now = minute()
    ok(
        client.post(
            "/api/v0/tsdb",
            json=[
                {"hostId": host_id, "name": "m", "time": now - 25 * 3600, "value": 1},
                {"hostId": host_id, "name": "m", "time": now + 25 * 3600, "value": 1},
                {"hostId": host_id, "name": "m", "time": now - 60, "value": 7},
            ],
        )
    )
    assert series(client, host_id, "m", now - 26 * 3600, now - 23 * 3600) == []
    assert series(client, host_id, "m", now - 120, now) == [{"time": now - 60, "value": 7.0}]
    text = client.get("/metrics").text
    assert sample(text, "sabamon_points_total", outcome="dropped_out_of_window") == 2
    assert sample(text, "sabamon_points_total", outcome="accepted") == 1


BAD_POINTS = [
    ({"value": float("inf")}, "[1].value"),  # 1e999 parses to infinity
    ({"value": [1]}, "[1].value"),
    ({"value": None}, "[1].value"),
    ({"value": "1"}, "[1].value"),
    ({"value": True}, "[1].value"),
    ({"name": "bad name"}, "[1].name"),
    ({"name": "x;DROP TABLE points"}, "[1].name"),
    ({"name": ""}, "[1].name"),
    ({"name": "storm.acker.verify:__ack"}, "[1].name"),
    ({"time": "now"}, "[1].time"),
    ({"hostId": "nosuchhost1"}, "[1].hostId"),
    ({"hostId": 12}, "[1].hostId"),
]


def test_a_bad_point_costs_only_itself(client: httpx.Client) -> None:
    """A partial write: the valid points are stored, each refused one is named by index and
    field in the 400 and counted on /metrics by reason."""
    host_id = register(client, "a")
    t = minute(-30)
    for n, (change, field) in enumerate(BAD_POINTS):
        good = {"hostId": host_id, "name": "m", "time": t + 60 * n, "value": n}
        body = json.dumps([good, {**good, "name": "other", **change}, {**good, "name": "after"}])
        response = client.post(
            "/api/v0/tsdb",
            content=body.replace("Infinity", "1e999"),
            headers={"Content-Type": "application/json"},
        )
        message = error(response, 400)
        assert message.startswith(f"1 points refused, 2 stored: {field}: "), (change, message)
        refused = response.json()["error"]["refused"]
        assert [(r["index"], r["field"]) for r in refused] == [(1, field.split(".")[1])]
    stored = series(client, host_id, "m", t, t + 60 * len(BAD_POINTS))
    assert [p["value"] for p in stored] == [float(n) for n in range(len(BAD_POINTS))]
    assert len(series(client, host_id, "after", t, t + 60 * len(BAD_POINTS))) == len(BAD_POINTS)
    text = client.get("/metrics").text
    for reason, count in (("value", 5), ("name", 4), ("time", 1), ("hostId", 2), ("point", 0)):
        assert sample(text, "sabamon_points_refused_total", reason=reason) == count, reason
    assert sample(text, "sabamon_points_total", outcome="accepted") == 2 * len(BAD_POINTS)


def test_nan_and_infinity_literals_cost_only_their_points(client: httpx.Client) -> None:
    """Python's json module writes NaN and Infinity: those points are refused by index, the
    others of the batch stored."""
    host_id = register(client, "a")
    t = minute(-1)
    points = [{"hostId": host_id, "name": f"m{i}", "time": t, "value": i} for i in range(5)]
    points[1]["value"], points[3]["value"] = float("nan"), float("-inf")
    points[4]["time"] = float("inf")
    response = client.post(
        "/api/v0/tsdb", content=json.dumps(points), headers={"Content-Type": "application/json"}
    )
    message = error(response, 400)
    assert message == (
        "3 points refused, 2 stored: [1].value: must be a finite number; [3].value: must be a"
        " finite number; [4].time: must be epoch seconds"
    )
    assert [p["value"] for p in series(client, host_id, "m2", t, t)] == [2.0]


def test_every_refused_point_is_named(client: httpx.Client) -> None:
    host_id = register(client, "a")
    t = minute(-1)
    points = [{"hostId": host_id, "name": f"bad:{i}", "time": t, "value": 1} for i in range(25)]
    response = client.post("/api/v0/tsdb", json=[*points, "x"])
    message = error(response, 400)
    assert message.startswith("26 points refused, 0 stored: [0].name: ")
    assert message.endswith("; and 6 more")
    assert [r["index"] for r in response.json()["error"]["refused"]] == list(range(26))
    assert response.json()["error"]["refused"][-1] == {
        "index": 25,
        "field": "point",
        "message": "must be an object",
    }


def test_a_millisecond_time_is_out_of_window_not_a_bad_batch(client: httpx.Client) -> None:
    host_id = register(client, "a")
    t = minute(-1)
    body = [
        {"hostId": host_id, "name": "m", "time": t, "value": 1},
        {"hostId": host_id, "name": "m", "time": t * 1000, "value": 2},
        {"hostId": host_id, "name": "m", "time": -5, "value": 3},
    ]
    assert ok(client.post("/api/v0/tsdb", json=body)) == {"success": True}
    assert series(client, host_id, "m", t - 60, t + 60) == [{"time": t, "value": 1.0}]
    text = client.get("/metrics").text
    assert sample(text, "sabamon_points_total", outcome="dropped_out_of_window") == 2


def test_a_replayed_backlog_is_stored_back_to_the_raw_retention(api: RunningApi) -> None:
    """Points 30 h old: dropped without the replay header, stored (and rolled up) with it;
    older than the raw retention: dropped either way."""
    with api.client() as client:
        host_id = register(client, "a")
        now = minute()
        late = now - 30 * 3600
        body = [
            {"hostId": host_id, "name": "m", "time": late + 60 * i, "value": i} for i in range(60)
        ]
        ok(client.post("/api/v0/tsdb", json=body))
        assert series(client, host_id, "m", late, late + 3600) == []
        replay = {"X-Sabamon-Replay": "1"}
        ancient = [{"hostId": host_id, "name": "m", "time": now - 461 * 86400, "value": 1}]
        ok(client.post("/api/v0/tsdb", json=body + ancient, headers=replay))
        assert len(series(client, host_id, "m", late, late + 3599)) == 60
        asyncio.run(rollup(api.backend.store(), now))
        hourly = series(client, host_id, "m", late - 11 * 86400, late + 3600)  # 1 h step
        buckets: dict[int, list[int]] = {}
        for i in range(60):
            buckets.setdefault((late + 60 * i) // 3600 * 3600, []).append(i)
        expected = [{"time": b, "value": sum(v) / len(v)} for b, v in sorted(buckets.items())]
        assert hourly == expected
        text = client.get("/metrics").text
        assert sample(text, "sabamon_points_total", outcome="dropped_out_of_window") == 61


async def rollup(store: Store, now: int) -> None:
    await store.open()
    try:
        await store.series.compact(now)
    finally:
        await store.close()


def test_wrong_shapes_and_retired_host(client: httpx.Client) -> None:
    host_id = register(client, "a")
    t = minute(-1)
    for body in ({"hostId": host_id}, "x", None):
        error(client.post("/api/v0/tsdb", json=body), 400)
    error(
        client.post("/api/v0/tsdb", content=b"[{", headers={"Content-Type": "application/json"}),
        400,
    )
    error(client.post("/api/v0/tsdb", content=b""), 400)
    ok(client.post(f"/api/v0/hosts/{host_id}/retire"))
    message = error(
        client.post("/api/v0/tsdb", json=[{"hostId": host_id, "name": "m", "time": t, "value": 1}]),
        400,
    )
    assert message.startswith("1 points refused, 0 stored: [0].hostId: unknown or retired host")
    assert series(client, host_id, "m", t - 60, t + 60) == []


def test_huge_body_is_413_on_declared_and_streamed_length(api: RunningApi) -> None:
    with api.client() as http:
        host_id = register(http, "a")
        big = b"[" + b" " * (8 * 1024 * 1024) + b"]"
        error(http.post("/api/v0/tsdb", content=big), 413)

        def chunks():  # no Content-Length: the limit is enforced while reading
            for _ in range(9):
                yield b" " * (1024 * 1024)

        error(http.post("/api/v0/tsdb", content=chunks()), 413)
        t = minute(-1)
        ok(
            http.post(
                "/api/v0/tsdb", json=[{"hostId": host_id, "name": "m", "time": t, "value": 1}]
            )
        )


def test_background_expiry_runs_off_the_request_path(start_api) -> None:  # type: ignore[no-untyped-def]
    api = start_api(maintenance_interval=0.05)
    with api.client() as http:
        host_id = register(http, "a")
        t = minute(-2)
        ok(
            http.post(
                "/api/v0/tsdb", json=[{"hostId": host_id, "name": "m", "time": t, "value": 4}]
            )
        )
        assert series(http, host_id, "m", t, t) == [{"time": t, "value": 4.0}]
        api.clock.offset = 6 * 365 * 86400  # past every retention
        deadline = time.monotonic() + 10
        while series(http, host_id, "m", t - 3600, t + 3600):
            assert time.monotonic() < deadline, "expired points were never deleted"
            time.sleep(0.05)


def test_an_integer_too_large_for_a_float_costs_only_its_point(client: httpx.Client) -> None:
    """A 400-digit value or time makes orjson give up; the stdlib reading keeps the good point
    and refuses the bad ones by index, never a 500."""
    host_id = register(client, "a")
    t = minute(-1)
    huge = "1" + "0" * 400
    body = (
        f'[{{"hostId": "{host_id}", "name": "m", "time": {t}, "value": 1}},'
        f'{{"hostId": "{host_id}", "name": "m", "time": {t}, "value": {huge}}},'
        f'{{"hostId": "{host_id}", "name": "n", "time": {huge}, "value": 1}}]'
    )
    answer = client.post("/api/v0/tsdb", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    refused = answer.json()["error"]["refused"]
    assert [(r["index"], r["field"]) for r in refused] == [(1, "value"), (2, "time")]
    assert series(client, host_id, "m", t - 60, t + 60) == [{"time": t, "value": 1.0}]
