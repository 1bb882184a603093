"""The check-report poster against the fault-injecting loopback peer and a real spool: a 4xx
drops the batch, a 413 halves it, a 5xx is retried, a network error gets one immediate
retry."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_server import Fault, FaultServer, Recorded
from tests.support.waiting import wait_until

from sabamon.agent.api import AgentApi
from sabamon.agent.loop import CheckReportPoster, LoopTimings, Shutdown
from sabamon.agent.spool import BatchKind, Spool

REPORT_PATH = "/api/v0/monitoring/checks/report"


def report(name: str) -> dict[str, object]:
    return {
        "source": {"type": "host", "hostId": "h1"},
        "name": name,
        "status": "CRITICAL",
        "message": "down",
        "occurredAt": 1_700_000_000,
    }


class Running:
    def __init__(self, server: FaultServer, spool: Spool, retry_delay: float) -> None:
        self.server = server
        self.spool = spool
        self.api = AgentApi(server.url, "key")
        self.shutdown = Shutdown(max_terminating=30)
        timings = LoopTimings(check_retry_delay=retry_delay)
        poster = CheckReportPoster(self.api, spool, timings, self.shutdown)
        self.thread = threading.Thread(target=poster.run, daemon=True)
        self.thread.start()

    def posts(self) -> list[Recorded]:
        return self.server.calls("POST", REPORT_PATH)

    def stop(self) -> None:
        self.shutdown.request()
        self.shutdown.cancel_timers()
        self.thread.join(5)
        assert not self.thread.is_alive()
        self.api.close()


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    spool = Spool(tmp_path / "spool")
    yield spool
    spool.close()


def reports_refused(status: int | None, times: int) -> Fault:
    return Fault(lambda r: r.path == REPORT_PATH, status, times=times)


def test_client_error_drops_the_batch(server: FaultServer, spool: Spool) -> None:
    server.fail(reports_refused(400, times=1))
    running = Running(server, spool, retry_delay=0.2)
    spool.append(BatchKind.CHECK_REPORTS, [report("first")])
    server.wait_until(lambda: len(running.posts()) == 1)
    spool.append(BatchKind.CHECK_REPORTS, [report("second")])
    server.wait_until(lambda: len(running.posts()) == 2)
    running.stop()
    names = [call.body["reports"][0]["name"] for call in running.posts()]
    assert names == ["first", "second"]  # the refused batch was not sent again
    assert spool.count(BatchKind.CHECK_REPORTS) == 0


def test_server_error_is_retried_until_accepted(server: FaultServer, spool: Spool) -> None:
    server.fail(reports_refused(500, times=2))
    running = Running(server, spool, retry_delay=0.2)
    spool.append(BatchKind.CHECK_REPORTS, [report("ssh")])
    server.wait_until(lambda: len(running.posts()) == 3)
    wait_until(lambda: spool.count(BatchKind.CHECK_REPORTS) == 0, timeout=5)
    running.stop()
    posts = running.posts()
    assert len(posts) == 3 and all(p.body == {"reports": [report("ssh")]} for p in posts)
    assert posts[2].at - posts[1].at >= 0.15  # retried after the retry delay
    assert spool.count(BatchKind.CHECK_REPORTS) == 0


def test_network_error_gets_one_immediate_retry(server: FaultServer, spool: Spool) -> None:
    server.fail(reports_refused(None, times=1))  # the connection is dropped unanswered
    running = Running(server, spool, retry_delay=30)
    spool.append(BatchKind.CHECK_REPORTS, [report("ssh")])
    server.wait_until(lambda: len(running.posts()) == 2)
    running.stop()
    first, second = running.posts()
    assert first.body == second.body
    assert second.at - first.at < 5  # at once, not after the 30 s retry delay
    assert spool.count(BatchKind.CHECK_REPORTS) == 0


def test_network_error_twice_waits_for_the_retry_delay(server: FaultServer, spool: Spool) -> None:
    server.fail(reports_refused(None, times=2))
    running = Running(server, spool, retry_delay=0.5)
    spool.append(BatchKind.CHECK_REPORTS, [report("ssh")])
    server.wait_until(lambda: len(running.posts()) == 3)
    running.stop()
    posts = running.posts()
    assert posts[2].at - posts[1].at >= 0.4
    assert spool.count(BatchKind.CHECK_REPORTS) == 0


def test_terminate_flushes_pending_reports_once(server: FaultServer, spool: Spool) -> None:
    server.fail(reports_refused(503, times=1))
    running = Running(server, spool, retry_delay=30)
    spool.append(BatchKind.CHECK_REPORTS, [report("a")])
    server.wait_until(lambda: len(running.posts()) == 1)
    running.stop()  # wakes the 30 s retry wait and flushes
    assert len(running.posts()) == 2
    assert spool.count(BatchKind.CHECK_REPORTS) == 0


def too_large(request: Recorded) -> bool:
    return request.path == REPORT_PATH and len(json.dumps(request.body)) > 600


def test_413_splits_the_batch_and_drops_only_a_report_too_large_alone(
    server: FaultServer, spool: Spool, caplog: pytest.LogCaptureFixture
) -> None:
    """The peer answers 413 to a post over 600 bytes: three reports fit, five do not, and
    one with a 1 kB message never does."""
    huge = {**report("huge"), "message": "x" * 1000}
    spool.append(BatchKind.CHECK_REPORTS, [report(f"r{i}") for i in range(5)] + [huge])
    spool.append(BatchKind.CHECK_REPORTS, [report("newer")])
    server.fail(Fault(too_large, 413))
    running = Running(server, spool, retry_delay=30)
    wait_until(lambda: spool.count(BatchKind.CHECK_REPORTS) == 0, timeout=10)
    running.stop()
    accepted = [r["name"] for p in running.posts() if not too_large(p) for r in p.body["reports"]]
    assert sorted(accepted) == ["newer", "r0", "r1", "r2", "r3", "r4"]
    dropped = [r.getMessage() for r in caplog.records if "check_reports_refused" in r.getMessage()]
    assert len(dropped) == 1 and "check_reports=1 first=huge" in dropped[0]
