"""The per-organisation series limit (`--max-series-per-org`): points of series that would
take the organisation past it are refused and named, the rest of the post is stored, and
good traffic on existing series goes on meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest
from api_helpers import error, ok, register, series
from api_server import RunningApi

LIMIT = 5


@pytest.fixture
def limited(start_api: Callable[..., RunningApi]) -> RunningApi:
    return start_api(max_series_per_org=LIMIT)


def points(host_id: str, names: list[str], at: int) -> list[dict[str, object]]:
    return [{"hostId": host_id, "name": name, "time": at, "value": 1.0} for name in names]


def test_points_past_the_limit_are_refused_and_named(limited: RunningApi) -> None:
    now = int(time.time()) // 60 * 60
    with limited.client("write") as client:
        host_id = register(client, "web")
        ok(client.post("/api/v0/tsdb", json=points(host_id, ["a", "b", "c"], now)))
        body = points(host_id, ["new.1", "a", "new.2", "new.3", "b", "new.4"], now + 60)
        message = error(client.post("/api/v0/tsdb", json=body), 400)
        assert message.startswith("2 points refused, 4 stored: [3].name: a new series would")
        assert f"limit of {LIMIT} series (--max-series-per-org)" in message
        refused = client.post("/api/v0/tsdb", json=body).json()["error"]["refused"]
        assert [(r["index"], r["field"]) for r in refused] == [(3, "name"), (5, "name")]
        names = ok(client.get(f"/api/v0/hosts/{host_id}/metric-names"))["names"]
        assert names == ["a", "b", "c", "new.1", "new.2"]
        assert series(client, host_id, "a", now + 60, now + 60) == [{"time": now + 60, "value": 1}]
        # existing series keep being written, new ones keep being refused
        ok(client.post("/api/v0/tsdb", json=points(host_id, ["a", "new.2"], now + 120)))
        error(client.post("/api/v0/tsdb", json=points(host_id, ["x"], now + 120)), 400)


def test_deleting_a_services_series_makes_room(limited: RunningApi) -> None:
    now = int(time.time()) // 60 * 60
    with limited.client("write") as client:
        ok(client.post("/api/v0/services", json={"name": "shop", "memo": ""}))
        posted = [{"name": f"m.{i}", "time": now, "value": i} for i in range(LIMIT + 2)]
        message = error(client.post("/api/v0/services/shop/tsdb", json=posted), 400)
        assert message.startswith(f"2 points refused, {LIMIT} stored: [5].name: ")
        ok(client.delete("/api/v0/services/shop"))
        ok(client.post("/api/v0/services", json={"name": "shop", "memo": ""}))
        ok(client.post("/api/v0/services/shop/tsdb", json=posted[:LIMIT]))


@pytest.mark.alone  # a post running over the shedder's 2 s wait sheds the good ones
def test_good_posts_succeed_during_a_cardinality_burst(limited: RunningApi) -> None:
    now = int(time.time()) // 60 * 60
    with limited.client("write") as client:
        host_id = register(client, "web")
        ok(client.post("/api/v0/tsdb", json=points(host_id, ["good"], now)))
    statuses: list[int] = []

    def attack() -> None:
        with limited.client("write") as attacker:
            for burst in range(20):
                names = [f"burst.{burst}.{i}" for i in range(2_000)]
                statuses.append(
                    attacker.post("/api/v0/tsdb", json=points(host_id, names, now)).status_code
                )

    attacker = threading.Thread(target=attack)
    attacker.start()
    good: list[httpx.Response] = []
    with limited.client("write") as client:
        while attacker.is_alive() or len(good) < 20:
            at = now + 60 * (len(good) % 60)
            good.append(client.post("/api/v0/tsdb", json=points(host_id, ["good"], at)))
    attacker.join()
    assert [r.status_code for r in good] == [200] * len(good)
    assert statuses == [400] * 20
    with limited.client("write") as client:
        names = ok(client.get(f"/api/v0/hosts/{host_id}/metric-names"))["names"]
    assert len(names) == LIMIT and "good" in names
