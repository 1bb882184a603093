"""The post loop against a real loopback peer and a real spool on disk."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fault_server import Fault, FaultServer, Recorded

from sabamon.agent.api import AgentApi
from sabamon.agent.collect import Gatherer, Ticker
from sabamon.agent.loop import (
    LoopTimings,
    MetricPoster,
    PostState,
    Shutdown,
    host_delay_seconds,
    next_delay,
)
from sabamon.agent.metrics.base import Value
from sabamon.agent.spool import BatchKind, Spool

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


LoopStarter = Callable[[int], tuple[Shutdown, threading.Thread]]


@pytest.fixture
def run_loop(server: FaultServer, tmp_path: Path) -> Iterator[LoopStarter]:
    """Starts the ticker and the metric poster over a fresh spool (posting `last` counter
    values); the ticker stops and the api and spool close at teardown."""
    stop = threading.Event()
    with ExitStack() as cleanup:
        api = cleanup.enter_context(AgentApi(server.url, "key"))
        spool = cleanup.enter_context(Spool(tmp_path / "spool"))

        def start(last: int) -> tuple[Shutdown, threading.Thread]:
            shutdown = Shutdown(FAST.max_terminating)
            gatherer = Gatherer([CounterGenerator(last)], {None: "host1"}.get, FAST, stop)
            cleanup.callback(gatherer.close)
            ticker = threading.Thread(target=Ticker(gatherer, spool, FAST, stop).run)
            ticker.start()
            cleanup.callback(ticker.join, 5)
            cleanup.callback(stop.set)
            poster = MetricPoster(api, spool, FAST, 0, shutdown)
            thread = threading.Thread(target=poster.run, daemon=True)
            thread.start()
            return shutdown, thread

        yield start


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    with Spool(tmp_path) as opened:
        yield opened


def test_loop_buffers_retries_and_merges(server: FaultServer, run_loop: LoopStarter) -> None:
    """The original's TestLoop: 503 three times when value 3 arrives; exactly 1..7 stored."""

    def carries_three(request: Recorded) -> bool:
        return request.path == "/api/v0/tsdb" and any(v["value"] == 3 for v in request.body)

    server.fail(Fault(carries_three, 503, times=3))
    shutdown, thread = run_loop(7)
    server.wait_until(lambda: len(server.stored) >= 7)
    shutdown.request()
    thread.join(5)
    assert not thread.is_alive()
    ordered = sorted(server.stored, key=lambda v: v["time"])
    assert [v["value"] for v in ordered] == [1, 2, 3, 4, 5, 6, 7]
    assert len(server.calls("POST", "/api/v0/tsdb")) >= 4  # three refusals, then success
    assert all(len(r.body) <= 2 for r in server.calls("POST", "/api/v0/tsdb"))


def test_network_error_gets_one_immediate_retry(server: FaultServer, run_loop: LoopStarter) -> None:
    server.fail(Fault(lambda r: r.path == "/api/v0/tsdb", None, times=1))
    shutdown, thread = run_loop(1)
    server.wait_until(lambda: len(server.stored) == 1)
    shutdown.request()
    thread.join(5)
    posts = server.calls("POST", "/api/v0/tsdb")
    assert len(posts) == 2 and posts[0].body == posts[1].body


def test_retry_after_is_honoured(server: FaultServer, run_loop: LoopStarter) -> None:
    server.fail(
        Fault(lambda r: r.path == "/api/v0/tsdb", 503, times=1, headers={"Retry-After": "1"})
    )
    shutdown, thread = run_loop(1)
    server.wait_until(lambda: len(server.stored) == 1)
    shutdown.request()
    thread.join(5)
    refused, accepted = server.calls("POST", "/api/v0/tsdb")[:2]
    assert accepted.at - refused.at >= 0.9  # Retry-After (1 s) beats the error delay (0.2 s)


QUICK = LoopTimings(post_interval=1.0, queued_delay=0.0, error_delay=0.01, terminating_delay=0.0)


def drain(server: FaultServer, spool: Spool, until: Callable[[], bool]) -> None:
    """Run a poster over the spool until `until()` holds, then stop it."""
    shutdown = Shutdown(10.0)
    with AgentApi(server.url, "key") as api:
        thread = threading.Thread(target=MetricPoster(api, spool, QUICK, 0, shutdown).run)
        thread.start()
        deadline = time.monotonic() + 20
        try:
            while not until():  # the spool's state changes after the last answer: poll it
                assert time.monotonic() < deadline, "the poster did not get there"
                thread.join(0.02)
        finally:
            shutdown.request()
            thread.join(5)
    assert not thread.is_alive()


def batch(first: int, count: int, at: int | None = None) -> list[dict[str, Any]]:
    at = int(time.time()) if at is None else at
    return [
        {"hostId": "host1", "name": f"custom.v{i}", "time": at, "value": float(i)}
        for i in range(first, first + count)
    ]


def test_an_outage_longer_than_60_posts_loses_nothing(server: FaultServer, spool: Spool) -> None:
    """The original drops a batch after 60 failed posts; network errors and 5xx never drop."""
    for n in range(3):
        spool.append(BatchKind.METRICS, batch(n * 10, 10))
    server.fail(Fault(lambda r: r.path == "/api/v0/tsdb", 503, times=40))
    server.fail(Fault(lambda r: r.path == "/api/v0/tsdb", None, times=50))  # then drops
    drain(server, spool, lambda: len(server.stored) >= 30)
    assert sorted(v["value"] for v in server.stored) == [float(i) for i in range(30)]
    assert len(server.calls("POST", "/api/v0/tsdb")) > 61
    assert spool.count() == 0


def test_413_splits_the_post_and_never_blocks_newer_data(server: FaultServer, spool: Spool) -> None:
    """Over 8 values is too large: two batches become one, then halves; a value alone
    that is still too large is dropped (here: any post carrying the value 99)."""
    spool.append(BatchKind.METRICS, batch(0, 20))
    spool.append(BatchKind.METRICS, batch(20, 6))
    spool.append(BatchKind.METRICS, [*batch(30, 3), *batch(99, 1)])
    server.fail(
        Fault(lambda r: r.path == "/api/v0/tsdb" and (len(r.body) > 8 or any(
            v["value"] == 99 for v in r.body)), 413)
    )  # fmt: skip
    drain(server, spool, lambda: spool.count() == 0)
    assert sorted(v["value"] for v in server.stored) == [
        *(float(i) for i in range(26)),
        30.0,
        31.0,
        32.0,
    ]
    posts = server.calls("POST", "/api/v0/tsdb")
    assert len(posts) < 20  # split, not retried as if temporary


def test_a_refused_batch_costs_only_itself_and_is_not_retried(
    server: FaultServer, spool: Spool
) -> None:
    spool.append(BatchKind.METRICS, batch(0, 2))
    spool.append(BatchKind.METRICS, batch(2, 2))  # the server refuses value 3
    spool.append(BatchKind.METRICS, batch(4, 2))
    server.fail(
        Fault(lambda r: r.path == "/api/v0/tsdb" and any(v["value"] == 3 for v in r.body), 400)
    )
    drain(server, spool, lambda: spool.count() == 0)
    assert sorted(v["value"] for v in server.stored) == [0.0, 1.0, 4.0, 5.0]
    with_three = [p for p in server.calls("POST", "/api/v0/tsdb") if len(p.body) and any(
        v["value"] == 3 for v in p.body)]  # fmt: skip
    assert len(with_three) == 2  # with its neighbour, then alone: dropped, not retried 60 times


@pytest.mark.parametrize("status", [408, 429, 401, 403, 500])
def test_temporary_and_key_failures_keep_the_batch(
    server: FaultServer, spool: Spool, status: int
) -> None:
    spool.append(BatchKind.METRICS, batch(0, 3))
    server.fail(Fault(lambda r: r.path == "/api/v0/tsdb", status, times=5))
    drain(server, spool, lambda: len(server.stored) == 3)
    assert len(server.calls("POST", "/api/v0/tsdb")) == 6


def test_backlog_posts_carry_the_replay_header(server: FaultServer, spool: Spool) -> None:
    spool.append(BatchKind.METRICS, batch(0, 2, at=int(time.time()) - 30 * 3600))
    drain(server, spool, lambda: len(server.stored) == 2)
    spool.append(BatchKind.METRICS, batch(2, 2))
    drain(server, spool, lambda: len(server.stored) == 4)
    backlog, fresh = server.calls("POST", "/api/v0/tsdb")
    assert backlog.headers.get("X-Sabamon-Replay") == "1"
    assert "X-Sabamon-Replay" not in fresh.headers


def test_terminate_during_a_post_ends_the_drain_at_once(server: FaultServer, spool: Spool) -> None:
    """A terminate that arrives while the last batch is being posted leaves nothing to drain:
    the poster returns at once, not at the host's next second (here ~30 s away)."""
    shutdown = Shutdown(10.0)

    def terminate_in_flight(request: Recorded) -> bool:
        shutdown.request()  # the post is on the wire; the fault never applies
        return False

    server.fail(Fault(terminate_in_flight, None))
    spool.append(BatchKind.METRICS, batch(0, 1))
    minute = LoopTimings(post_interval=60.0, terminating_delay=0.0)
    host_delay = (time.time() + 30) % 60
    with AgentApi(server.url, "key") as api:
        poster = MetricPoster(api, spool, minute, host_delay, shutdown)
        thread = threading.Thread(target=poster.run, daemon=True)
        thread.start()
        thread.join(3)
        alive = thread.is_alive()
        shutdown.cancel_timers()
    assert not alive, "the poster slept towards the host's second after the terminate"
    assert [v["value"] for v in server.stored] == [0.0]
