"""The maintenance process's supervisor with real child processes: a process that dies is
started again after its pause, one that stops itself is not, one that ignores TERM is
killed after the grace, and one that fails at its start leaves nothing behind."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from tests.support.waiting import wait_until

from sabamon.server.maintainer.supervisor import MaintenanceProcess
from sabamon.server.settings import ServerSettings

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


@pytest.mark.parametrize(
    ("stops", "code"),
    [("pass", 0), ("import os, signal; os.kill(os.getpid(), signal.SIGINT)", -signal.SIGINT)],
)
def test_a_maintainer_that_stops_itself_is_not_started_again(stops: str, code: int) -> None:
    """Ctrl-C, or a service manager's TERM, reaches the whole process group: the maintainer
    stops (status 0, or ended by the signal while it starts) while the server is still
    shutting down, and stays stopped."""
    process = MaintenanceProcess(os.environ, command=(sys.executable, "-c", stops))
    process.start()
    wait_until(lambda: not process.supervising, what="the supervision to end")
    assert process.starts == 1
    assert process.stop() == code


def test_a_maintainer_that_cannot_open_its_store_leaves_no_figures(tmp_path: Path) -> None:
    """While the database is down it is started again every minute: a start that fails
    leaves no files in the figures' folder, which every /metrics scrape reads whole."""
    unusable = tmp_path / "a-file"
    unusable.touch()  # SQLite cannot make its database under it
    environ = {**os.environ}
    ServerSettings(data_dir=unusable, maintenance="process").export(environ)
    figures = tmp_path / "figures"
    figures.mkdir()
    environ["PROMETHEUS_MULTIPROC_DIR"] = str(figures)
    process = MaintenanceProcess(environ, first_delay=60)
    process.start()
    wait_until(lambda: process.pid is None, what="the failed start")
    assert process.stop() == 1
    assert list(figures.iterdir()) == []
