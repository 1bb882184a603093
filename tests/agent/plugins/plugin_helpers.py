"""Helpers for the plugin tests: script paths, commands, polling, and a clock the test
moves by hand."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.support.waiting import wait_until

from sabamon.agent.plugins.config import PluginCommand

SCRIPTS = Path(__file__).parent / "scripts"


def script(name: str) -> str:
    return str(SCRIPTS / name)


def command(
    cmd: str | tuple[str, ...], *, env: dict[str, str] | None = None, timeout: float = 10
) -> PluginCommand:
    return PluginCommand(key="plugin.test.x", command=cmd, env=env or {}, timeout_seconds=timeout)


class FakeClock:
    """A clock that moves only when the test calls `advance`; `waiting` lists the deadlines
    the loops are waiting for, so a test can tell when a loop has gone to sleep."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self._now = start
        self._changed = threading.Condition()
        self.waiting: list[float] = []

    def now(self) -> float:
        with self._changed:
            return self._now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        with self._changed:
            deadline = self._now + max(seconds, 0.0)
            self.waiting.append(deadline)
            try:
                while self._now < deadline and not event.is_set():
                    self._changed.wait(0.005)
                return event.is_set()
            finally:
                self.waiting.remove(deadline)

    def advance(self, seconds: float) -> None:
        with self._changed:
            self._now += seconds
            self._changed.notify_all()

    def wait_until_sleeping(self, *deadlines: float) -> None:
        """Block until the loops wait for exactly these deadlines (in any order)."""
        wait_until(lambda: sorted(self._snapshot()) == sorted(deadlines))

    def _snapshot(self) -> list[float]:
        with self._changed:
            return list(self.waiting)
