"""An idle agent sleeps: once a real agent subprocess has collected, posted and reported its
check, its threads stay asleep until the next deadline (no polling), read from
/proc/PID/task/*/status like `bench/agent_footprint.py` does."""

from __future__ import annotations

import time
from pathlib import Path

from agent_process import start_agent, stop, write_config
from fault_server import FaultServer
from tests.support.waiting import wait_until

from sabamon.agent.loop import host_delay_seconds

HOST_ID = "idleHost744"  # posts at second 0 of its period: the first post comes at once
# An hour between ticks, so the measuring window holds no due work; the rest shrunk.
IDLE_TIMINGS = (
    "post_interval=3600,tick_resolution=3600,delta_interval=0.05,max_terminating=5,"
    "startup_attempts=2,startup_retry_delay=0.1"
)
WINDOW_SECONDS = 3.0
REPORT_PATH = "/api/v0/monitoring/checks/report"


def voluntary_switches(pid: int) -> dict[int, int]:
    """Voluntary context switches per thread: each is a sleep that ended, a wake-up."""
    switches = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("voluntary_ctxt_switches"))
        switches[int(task.name)] = int(line.split()[1])
    return switches


def wake_ups(before: dict[int, int], after: dict[int, int]) -> int:
    return sum(count - before.get(tid, 0) for tid, count in after.items())


def test_an_idle_agent_does_not_wake(tmp_path: Path) -> None:
    assert host_delay_seconds(HOST_ID, 3600) == 0
    with FaultServer(host_id=HOST_ID) as server:
        conf = write_config(
            tmp_path, server.url, '[plugin.checks.down]\ncommand = "echo down; exit 2"'
        )
        agent = start_agent(conf, tmp_path / "root", timings=IDLE_TIMINGS)
        try:
            # Collected and posted, the check ran and its CRITICAL was reported at once.
            server.wait_until(lambda: bool(server.stored and server.calls("POST", REPORT_PATH)))
            snapshots = [voluntary_switches(agent.pid)]

            def settled() -> bool:  # the posters are back asleep after the answers
                snapshots.append(voluntary_switches(agent.pid))
                return snapshots[-1] == snapshots[-2]

            wait_until(settled)
            before = snapshots[-1]
            time.sleep(WINDOW_SECONDS)  # the measuring window itself
            after = voluntary_switches(agent.pid)
            assert agent.poll() is None
            assert wake_ups(before, after) <= WINDOW_SECONDS  # at most one a second
            # main, ticker, collection, plugin pool, specs, poster, check reports, checks
            # and the check's own thread: one each, none per collector or per tick.
            assert len(after) <= 9, f"{len(after)} threads while idle"
        finally:
            assert stop(agent) == 0
