"""Per-organisation rules under concurrent real HTTP requests, on both backends: the
bounds on graph definitions and metadata namespaces, and notification groups after the
channels, groups and monitors they name are deleted."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_helpers import ok, register
from api_server import RunningApi

from sabamon.server.api import graphdefs, metadata

POSTS = 16


def concurrently(
    api: RunningApi, requests: list[Callable[[httpx.Client], httpx.Response]]
) -> list[int]:
    """The statuses of `requests`, sent at once, each on a connection of its own."""
    clients = [api.client("write") for _ in requests]
    try:
        with ThreadPoolExecutor(len(requests)) as pool:
            answers = list(
                pool.map(lambda pair: pair[0](pair[1]), zip(requests, clients, strict=True))
            )
    finally:
        for client in clients:
            client.close()
    return [answer.status_code for answer in answers]


def test_concurrent_graph_def_posts_never_pass_the_limit(
    api: RunningApi, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(graphdefs, "MAX_GRAPH_DEFS", 5)

    def post(i: int) -> Callable[[httpx.Client], httpx.Response]:
        body = [{"name": f"custom.g{i}", "metrics": [{"name": f"custom.g{i}.v"}]}]
        return lambda http: http.post("/api/v0/graph-defs/create", json=body)

    statuses = concurrently(api, [post(i) for i in range(POSTS)])
    assert sorted(statuses) == [200] * 5 + [400] * (POSTS - 5)
    deleted = [
        client.request("DELETE", "/api/v0/graph-defs", json={"name": f"custom.g{i}"}).status_code
        for i in range(POSTS)
    ]
    assert deleted.count(200) == 5  # as many as were stored


def test_concurrent_metadata_puts_never_pass_the_namespace_limit(
    api: RunningApi, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metadata, "MAX_NAMESPACES", 4)
    path = f"/api/v0/hosts/{register(client, 'h')}/metadata"

    def put(i: int) -> Callable[[httpx.Client], httpx.Response]:
        return lambda http: http.put(f"{path}/ns{i}", json={"i": i})

    statuses = concurrently(api, [put(i) for i in range(POSTS)])
    assert sorted(statuses) == [200] * 4 + [400] * (POSTS - 4)
    assert len(ok(client.get(path))["metadata"]) == 4


def test_deleted_channels_groups_and_monitors_leave_the_groups(client: httpx.Client) -> None:
    def channel(name: str) -> str:
        spec = {"type": "webhook", "name": name, "url": "http://127.0.0.1:9/", "events": ["alert"]}
        return str(ok(client.post("/api/v0/channels", json=spec))["id"])

    kept, dropped = channel("kept"), channel("dropped")
    monitor = {"type": "host", "name": "load", "metric": "loadavg5", "operator": ">",
               "warning": 1.0, "critical": 2.0}  # fmt: skip
    monitors = [str(ok(client.post("/api/v0/monitors", json=monitor))["id"]) for _ in range(2)]
    child = ok(client.post("/api/v0/notification-groups", json={"name": "child"}))["id"]
    parent = {
        "name": "parent", "childChannelIds": [kept, dropped], "childNotificationGroupIds": [child],
        "monitors": [{"id": m, "skipDefault": True} for m in monitors],
    }  # fmt: skip
    parent_id = ok(client.post("/api/v0/notification-groups", json=parent))["id"]
    ok(client.delete(f"/api/v0/channels/{dropped}"))
    ok(client.delete(f"/api/v0/monitors/{monitors[0]}"))
    ok(client.delete(f"/api/v0/notification-groups/{child}"))
    groups = {
        g["id"]: g for g in ok(client.get("/api/v0/notification-groups"))["notificationGroups"]
    }
    assert groups[parent_id]["childChannelIds"] == [kept]
    assert groups[parent_id]["childNotificationGroupIds"] == []
    assert groups[parent_id]["monitors"] == [{"id": monitors[1], "skipDefault": True}]
    default = next(g for g in groups.values() if g["type"] == "group-default")
    assert default["childChannelIds"] == [kept]
    # what was read is written back unchanged
    ok(client.put(f"/api/v0/notification-groups/{parent_id}", json=groups[parent_id]))
