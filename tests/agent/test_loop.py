"""The post loop against a real loopback peer and a real spool on disk."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fault_server import Fault, FaultServer, Recorded

from sabamon.agent.api import AgentApi
from sabamon.agent.collect import Collector, Ticker
from sabamon.agent.loop import (
    LoopTimings,
    MetricPoster,
    PostState,
    Shutdown,
    host_delay_seconds,
    next_delay,
)
from sabamon.agent.metrics.base import Value
from sabamon.agent.spool import Spool

FAST = LoopTimings(
    post_interval=1.0,
    delta_interval=0.0,
    tick_resolution=0.05,
    queued_delay=0.1,
    error_delay=0.2,
    terminating_delay=0.05,
    max_terminating=10.0,
)


class CounterGenerator:
    """Yields 1, 2, 3, ... up to `last`, one per collection."""

    name = "counter"
    custom_identifier = None

    def __init__(self, last: int) -> None:
        self.last = last
        self.count = 0
        self.lock = threading.Lock()

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        with self.lock:
            if self.count >= self.last:
                return []
            self.count += 1
            return [Value("custom.counter", float(self.count))]


def test_delay_by_host() -> None:
    first, second = host_delay_seconds("246PUVUngPo"), host_delay_seconds("21GZjCE5Etb")
    assert 0 <= first < 60 and 0 <= second < 60
    assert first != second


@pytest.mark.parametrize(
    ("state", "now", "expected"),
    [
        (PostState.FIRST, 100.0, 0.0),
        (PostState.QUEUED, 100.0, 30.0),
        (PostState.HAD_ERROR, 100.0, 60.0),
        (PostState.TERMINATING, 100.0, 1.0),
        (PostState.DEFAULT, 1_699_999_990.0, 25.0),  # host second 35, now at second 10
        (PostState.DEFAULT, 1_700_000_020.0, 0.0),  # past the host second: post at once
    ],
)
def test_next_delay(state: PostState, now: float, expected: float) -> None:
    assert next_delay(state, now, 35, LoopTimings()) == expected


def _run_loop(server: FaultServer, tmp_path: Path, last: int) -> tuple[Shutdown, threading.Thread]:
    api = AgentApi(server.url, "key")
    spool = Spool(tmp_path / "spool")
    stop = threading.Event()
    shutdown = Shutdown(FAST.max_terminating)
    collector = Collector([CounterGenerator(last)], {None: "host1"}.get, FAST, stop)
    threading.Thread(target=Ticker(collector, spool, FAST, stop).run, daemon=True).start()
    poster = MetricPoster(api, spool, FAST, 0, shutdown)
    thread = threading.Thread(target=poster.run, daemon=True)
    thread.start()
    return shutdown, thread


def test_loop_buffers_retries_and_merges(server: FaultServer, tmp_path: Path) -> None:
    """The original's TestLoop: 503 three times when value 3 arrives; exactly 1..7 stored."""

    def carries_three(request: Recorded) -> bool:
        return request.path == "/api/v0/tsdb" and any(v["value"] == 3 for v in request.body)

    server.fail(Fault(carries_three, 503, times=3))
    shutdown, thread = _run_loop(server, tmp_path, last=7)
    server.wait_until(lambda: len(server.stored) >= 7)
    shutdown.request()
    thread.join(5)
    assert not thread.is_alive()
    ordered = sorted(server.stored, key=lambda v: v["time"])
    assert [v["value"] for v in ordered] == [1, 2, 3, 4, 5, 6, 7]
    assert len(server.calls("POST", "/api/v0/tsdb")) >= 4  # three refusals, then success
    assert all(len(r.body) <= 2 for r in server.calls("POST", "/api/v0/tsdb"))


def test_network_error_gets_one_immediate_retry(server: FaultServer, tmp_path: Path) -> None:
    server.fail(Fault(lambda r: r.path == "/api/v0/tsdb", None, times=1))
    shutdown, thread = _run_loop(server, tmp_path, last=1)
    server.wait_until(lambda: len(server.stored) == 1)
    shutdown.request()
    thread.join(5)
    posts = server.calls("POST", "/api/v0/tsdb")
    assert len(posts) == 2 and posts[0].body == posts[1].body


def test_retry_after_is_honoured(server: FaultServer, tmp_path: Path) -> None:
    server.fail(
        Fault(lambda r: r.path == "/api/v0/tsdb", 503, times=1, headers={"Retry-After": "1"})
    )
    shutdown, thread = _run_loop(server, tmp_path, last=1)
    server.wait_until(lambda: len(server.stored) == 1)
    shutdown.request()
    thread.join(5)
    refused, accepted = server.calls("POST", "/api/v0/tsdb")[:2]
    assert accepted.at - refused.at >= 0.9  # Retry-After (1 s) beats the error delay (0.2 s)
