"""`sabamon agent supervise`: run the agent as a child and keep it running.

A child that crashes is restarted, unless it died within `launch_window` seconds of its start
(a launch failure: the supervisor exits with its code). HUP runs `configtest` with the same
flags and, if it passes, stops the child with TERM and starts a new one once it has exited (a
reload). INT, TERM and QUIT go to the child, every one of them (a second TERM forces the
agent's exit while it drains); the supervisor exits when the child has. The supervisor never
blocks in a wait for the child: it sleeps on its signals, SIGCHLD included.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

from sabamon.agent.signals import SignalPipe
from sabamon.logfmt import setup_logging

log = logging.getLogger(__name__)

LAUNCH_WINDOW_SECONDS = 30.0
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)


def agent_command(subcommand: list[str], argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "sabamon.cli", "agent", *subcommand, *argv]


class Supervisor:
    def __init__(self, argv: list[str], launch_window: float = LAUNCH_WINDOW_SECONDS) -> None:
        self.argv = argv
        self.launch_window = launch_window

    def _spawn(self) -> tuple[subprocess.Popen[bytes], float]:
        child = subprocess.Popen(agent_command([], [*self.argv, "--child"]))
        log.info("event=child_started pid=%d", child.pid)
        return child, time.monotonic()

    def run(self) -> int:
        """Sleep until a signal arrives; SIGCHLD says that a child (the agent, or a
        configtest) ended."""
        with SignalPipe((*FORWARDED, signal.SIGHUP, signal.SIGCHLD)) as signals:
            child, started = self._spawn()
            stopping = reloading = False
            while True:
                for signum in signals.wait():
                    if signum == signal.SIGHUP and not (stopping or reloading):
                        if self._configtest_passes():
                            child.terminate()
                            reloading = True
                    elif signum in FORWARDED:
                        child.send_signal(signum)
                        stopping = True
                code = child.poll()
                if code is None:
                    continue
                if stopping:
                    return code
                if reloading:
                    reloading = False
                    child, started = self._spawn()
                    continue
                if time.monotonic() - started < self.launch_window:
                    log.error("event=child_launch_failed code=%d", code)
                    return code or 1
                log.warning("event=child_crashed code=%d action=restart", code)
                child, started = self._spawn()

    def _configtest_passes(self) -> bool:
        result = subprocess.run(agent_command(["configtest"], self.argv), check=False)
        if result.returncode != 0:
            log.error("event=reload_refused reason=configtest_failed")
        return result.returncode == 0


def supervise(argv: list[str]) -> int:
    setup_logging(logging.INFO)
    window = LAUNCH_WINDOW_SECONDS
    if "--launch-window" in argv:  # for tests: shrink the 30 s launch-failure window
        index = argv.index("--launch-window")
        window = float(argv[index + 1])
        argv = argv[:index] + argv[index + 2 :]
    return Supervisor(argv, window).run()
