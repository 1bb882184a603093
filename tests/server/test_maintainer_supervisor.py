"""The maintenance process's supervisor with real child processes: a process that dies is
started again after its pause, and one that ignores TERM is killed after the grace."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from tests.support.waiting import wait_until

from sabamon.server.maintainer.supervisor import MaintenanceProcess

SLEEPER = (sys.executable, "-c", "import time; time.sleep(60)")


def test_a_maintainer_that_dies_is_started_again() -> None:
    process = MaintenanceProcess(os.environ, command=SLEEPER, first_delay=0.05)
    process.start()
    try:
        first = process.pid
        assert first is not None and process.starts == 1
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: process.pid not in (None, first), what="a second process")
        assert process.starts == 2
    finally:
        code = process.stop()
    assert code == -signal.SIGTERM  # ended by TERM, within the grace
    assert process.pid is None


def test_a_maintainer_that_ignores_term_is_killed_after_the_grace(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    stubborn = (
        sys.executable,
        "-c",
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)",
        str(ready),
    )
    process = MaintenanceProcess(os.environ, command=stubborn)
    process.start()
    wait_until(ready.exists, what="TERM ignored")
    assert process.stop(grace=0.3) == -signal.SIGKILL
    assert process.starts == 1  # a stop is not a death to restart from
