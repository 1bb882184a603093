"""Load shedding: 503 + Retry-After at once when overloaded, and no acknowledged point lost."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send
from tests.server.api.api_server import free_socket, serve_in_thread
from tests.support.server import running_server

from sabamon.server.shedding import LoadShedder, SheddingLimits

NAMES = [f"shed.metric{index:03d}" for index in range(100)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class HeldApp:
    """/api/hold answers only once `release` is set; everything else answers at once."""

    def __init__(self) -> None:
        self.release = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/api/hold":
            await asyncio.to_thread(self.release.wait, 30)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture
def held() -> Iterator[tuple[str, LoadShedder, HeldApp, Clock]]:
    inner, clock = HeldApp(), Clock()
    shedder = LoadShedder(inner, SheddingLimits(max_in_flight=2, max_wait=2.0), clock=clock)
    sock = free_socket()
    server, thread = serve_in_thread(shedder, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", shedder, inner, clock
    finally:
        inner.release.set()
        server.should_exit = True
        thread.join(timeout=15)


def hold_one(url: str, shedder: LoadShedder) -> threading.Thread:
    thread = threading.Thread(target=lambda: httpx.post(url + "/api/hold", timeout=30))
    thread.start()
    deadline = time.monotonic() + 10
    while len(shedder.in_flight) < 1:
        assert time.monotonic() < deadline, "the held request never arrived"
        time.sleep(0.005)
    return thread


def test_a_request_waiting_too_long_sheds_new_api_requests(
    held: tuple[str, LoadShedder, HeldApp, Clock],
) -> None:
    url, shedder, inner, clock = held
    holder = hold_one(url, shedder)
    assert httpx.post(url + "/api/fast").status_code == 200
    clock.now += 2.5  # the held request has now waited longer than max_wait
    refused = httpx.post(url + "/api/fast", content=b"[]")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert "overloaded" in refused.json()["error"]["message"]
    assert httpx.get(url + "/healthz").status_code == 200, "only API requests are shed"
    inner.release.set()
    holder.join(timeout=10)
    assert httpx.post(url + "/api/fast").status_code == 200
    assert shedder.shed_total == 1


def test_too_many_requests_in_flight_are_shed(
    held: tuple[str, LoadShedder, HeldApp, Clock],
) -> None:
    url, shedder, inner, _ = held
    holders = [hold_one(url, shedder)]
    holders.append(threading.Thread(target=lambda: httpx.post(url + "/api/hold", timeout=30)))
    holders[1].start()
    deadline = time.monotonic() + 10
    while len(shedder.in_flight) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert httpx.post(url + "/api/fast").status_code == 503
    inner.release.set()
    for holder in holders:
        holder.join(timeout=10)
    assert httpx.post(url + "/api/fast").status_code == 200


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        SheddingLimits(max_in_flight=0)
    with pytest.raises(ValueError, match="max_wait"):
        SheddingLimits(max_wait=0)


async def post_minutes(
    url: str, apikey: str, host_id: str, minutes: list[int]
) -> list[tuple[int, httpx.Response, float]]:
    limits = httpx.Limits(max_connections=len(minutes))
    headers = {"X-Api-Key": apikey}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as client:

        async def post(minute: int) -> tuple[int, httpx.Response, float]:
            body = [{"hostId": host_id, "name": n, "time": minute, "value": 1.5} for n in NAMES]
            started = time.monotonic()
            answer = await client.post("/api/v0/tsdb", json=body, timeout=30)
            return minute, answer, time.monotonic() - started

        return await asyncio.gather(*(post(minute) for minute in minutes))


def test_an_overloaded_server_sheds_and_loses_no_acknowledged_point(tmp_path: Path) -> None:
    """Two workers with a bound of two requests each, hit by 48 posts at once."""
    options = ("--workers", "2", "--max-in-flight", "2", "--shed-retry-after", "3")
    with running_server(tmp_path / "data", *options) as server, server.client() as client:
        host_id = client.post("/api/v0/hosts", json={"name": "shed", "meta": {}}).json()["id"]
        now = int(time.time()) // 60 * 60
        minutes = [now - 60 * index for index in range(48)]
        answers = asyncio.run(post_minutes(server.url, server.apikey, host_id, minutes))

        statuses = {answer.status_code for _, answer, _ in answers}
        assert statuses == {200, 503}, statuses
        acknowledged = {minute for minute, answer, _ in answers if answer.status_code == 200}
        for _, answer, _ in answers:
            if answer.status_code == 503:
                assert answer.headers["Retry-After"] == "3"  # the flag reached both workers
                assert answer.json()["error"]["message"]
        assert max(seconds for _, _, seconds in answers) < 10, "answered, not timed out"

        span = {"from": now - 3600, "to": now + 60}
        for name in NAMES:
            stored = client.get(f"/api/v0/hosts/{host_id}/metrics", params={"name": name, **span})
            assert stored.status_code == 200, stored.text
            # Every acknowledged point is there; nothing of a shed post was applied.
            assert {point["time"] for point in stored.json()["metrics"]} == acknowledged
