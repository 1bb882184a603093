"""`sabamon agent supervise` with real processes and signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from agent_process import FAST_TIMINGS, stop, write_config
from fault_server import Fault, FaultServer
from tests.support.waiting import wait_until


def supervise(conf: Path, root: Path, launch_window: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "sabamon.cli", "agent", "supervise"]
    command += ["--launch-window", launch_window, "--conf", str(conf), "--root", str(root)]
    command += ["--pidfile", "", "--timings", FAST_TIMINGS]
    return subprocess.Popen(command, stderr=subprocess.DEVNULL)


def child_pids(supervisor: subprocess.Popen[bytes]) -> list[int]:
    return [c.pid for c in psutil.Process(supervisor.pid).children() if c.status() != "zombie"]


def test_crash_restarts_and_hup_reloads(server: FaultServer, tmp_path: Path) -> None:
    supervisor = supervise(write_config(tmp_path, server.url), tmp_path / "root", "0.5")
    finds = f"/api/v0/hosts/{server.host_id}"
    try:
        wait_until(
            lambda: len(server.calls("GET", finds)) == 1 and len(child_pids(supervisor)) == 1
        )
        first = child_pids(supervisor)[0]
        seen = time.monotonic()
        # a crash, not a launch failure: the child has lived past the 0.5 s launch window
        wait_until(lambda: len(server.stored) > 0 and time.monotonic() - seen > 1.0)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: len(server.calls("GET", finds)) == 2)
        second = child_pids(supervisor)
        assert second and second[0] != first
        supervisor.send_signal(signal.SIGHUP)
        wait_until(lambda: len(server.calls("GET", finds)) == 3)
    finally:
        # the agent's drain (up to 5 s) and exit wait (up to 5 s) on a loaded machine: what
        # this test checks is the restart and the reload, not how fast the exit is
        assert stop(supervisor, timeout=40) == 0


def test_launch_failure_stops_the_supervisor(tmp_path: Path) -> None:
    conf = tmp_path / "agent.conf"
    conf.write_text('apikey = "x"\ncloud_platform = "mars"\n')
    supervisor = supervise(conf, tmp_path / "root", "30")
    assert supervisor.wait(20) == 1


def test_a_second_term_reaches_the_draining_agent(server: FaultServer, tmp_path: Path) -> None:
    """The server refuses the posts, so the agent drains after the first TERM (for up to its
    5 s); the second TERM goes to it too and forces its exit at once (status 1)."""
    server.fail(Fault(lambda r: r.path == "/api/v0/tsdb", 503))
    supervisor = supervise(write_config(tmp_path, server.url), tmp_path / "root", "0.5")
    try:
        wait_until(lambda: len(server.calls("POST", "/api/v0/tsdb")) >= 2)
        supervisor.send_signal(signal.SIGTERM)
        wait_until(lambda: len(server.calls("POST", "/api/v0/tsdb")) >= 4)  # draining
        started = time.monotonic()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(10) == 1
        assert time.monotonic() - started < 2.5  # not the drain's own 5 s bound
    finally:
        stop(supervisor)
