"""Starting, restarting and ending the maintenance process beside the server's workers.

`beside(environ)` is the context `sabamon server` runs uvicorn in: the process starts
first; when it dies (a crash, the database gone at its start) it is started again after a
pause that doubles from `FIRST_RESTART_DELAY` to `LAST_RESTART_DELAY` (back to the first
after a run of `STEADY_RUN` seconds); when the block ends, or TERM or INT ends the server,
it gets TERM and `STOP_GRACE` seconds to finish its transaction, then KILL.

A process that exits with status 0, or is ended by TERM or INT before it handles them
(`STOPPED`), was stopped by a signal of its own and is not started again: Ctrl-C on a
terminal, or a service manager's TERM, reaches every process of the server's group, and
uvicorn's handlers, not `beside`'s, take the server's copy until its workers have finished
their requests (up to 10 s); a restart meanwhile would begin a compaction in a server that
is shutting down.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import FrameType

from sabamon.server.telemetry import process_exited

log = logging.getLogger(__name__)

FIRST_RESTART_DELAY = 1.0
LAST_RESTART_DELAY = 60.0
STEADY_RUN = 60.0
"""Seconds a process must have run for its exit to restart it after the first delay."""
STOPPED = (0, -signal.SIGTERM, -signal.SIGINT)
"""The exit statuses of a process stopped by TERM or INT (`subprocess` returncodes)."""
STOP_GRACE = 15.0
"""Seconds between TERM and KILL: a sealing transaction of 500 series ends well within."""

Handler = Callable[[int, FrameType | None], object] | int | None


class MaintenanceProcess:
    """One `python -m sabamon.server.maintainer <this pid>` at a time, kept running by a
    thread until `stop`. `command` is for tests (another program to supervise)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        command: tuple[str, ...] | None = None,
        first_delay: float = FIRST_RESTART_DELAY,
    ) -> None:
        self._environ = dict(environ)
        self._command = command or (
            sys.executable,
            "-m",
            "sabamon.server.maintainer",
            str(os.getpid()),
        )
        self._first_delay = first_delay
        self._stopping = threading.Event()
        # reentrant: TERM may reach the main thread's `stop` while it spawns (`beside`)
        self._lock = threading.RLock()
        self._child: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._supervise, name="maintainer", daemon=True)
        self.starts = 0
        """Processes started so far (1 + restarts)."""

    @property
    def pid(self) -> int | None:
        """The running process's pid, None between a death and its restart."""
        child = self._child
        return None if child is None or child.poll() is not None else child.pid

    @property
    def supervising(self) -> bool:
        """Whether a process that exits will be started again: until `stop`, or until one
        stops itself (`STOPPED`)."""
        return self._thread.is_alive()

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def stop(self, grace: float = STOP_GRACE) -> int | None:
        """TERM, then KILL after `grace` seconds; the process's exit status (None if none
        was running). Safe to call twice, and from a signal handler of the main thread."""
        self._stopping.set()
        with self._lock:
            child = self._child
        if child is None:
            return None
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(grace)
            except subprocess.TimeoutExpired:
                log.warning("event=maintainer_killed pid=%d grace_seconds=%g", child.pid, grace)
                child.kill()
                child.wait()
        return child.returncode

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._child = subprocess.Popen(
                self._command, env=self._environ, stdin=subprocess.DEVNULL
            )
            self.starts += 1
        log.info("event=maintainer_spawned pid=%d", self._child.pid)

    def _supervise(self) -> None:
        delay = self._first_delay
        while True:
            child = self._child
            assert child is not None
            started = time.monotonic()
            code = child.wait()
            process_exited(child.pid)  # its live gauges leave the workers' sums
            if self._stopping.is_set():
                return
            if code in STOPPED:
                log.info("event=maintainer_stopped_itself pid=%d code=%d", child.pid, code)
                return
            if time.monotonic() - started >= STEADY_RUN:
                delay = self._first_delay
            log.warning(
                "event=maintainer_exited pid=%d code=%d restart_in_seconds=%g",
                child.pid,
                code,
                delay,
            )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, LAST_RESTART_DELAY)
            self._spawn()


@contextlib.contextmanager
def beside(environ: Mapping[str, str]) -> Iterator[MaintenanceProcess]:
    """Runs the maintenance process for the block's duration. uvicorn, stopped by TERM or
    INT, puts back the handlers it found and raises the signal again once it has shut down:
    the handlers found are these, which stop the process before the signal takes its
    ordinary course (the server exits as it did without a maintenance process)."""
    process = MaintenanceProcess(environ)
    previous: dict[int, Handler] = {}

    def stop_then_resume(signum: int, frame: FrameType | None) -> None:
        process.stop()
        handler = previous[signum]
        signal.signal(signum, handler)
        if callable(handler):
            handler(signum, frame)
        else:
            signal.raise_signal(signum)

    for sig in (signal.SIGTERM.value, signal.SIGINT.value):
        previous[sig] = signal.signal(sig, stop_then_resume)
    process.start()
    try:
        yield process
    finally:
        process.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
