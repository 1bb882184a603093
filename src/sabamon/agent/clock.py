"""The agent's one clock: wall time and waiting on an event, injected into every loop (the
ticker, the posters, the plugin loops) so tests run minute cadences in milliseconds."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait until `event` is set (True) or `seconds` have passed (False)."""


class SystemClock:
    def now(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(max(seconds, 0.0))


SYSTEM_CLOCK = SystemClock()


def next_delay(start: float, now: float, interval: float) -> float:
    """Seconds until the next slot of a fixed cadence begun at `start`: a late wake-up (a busy
    machine, a suspended laptop) shortens the next wait instead of shifting every later run."""
    return interval - ((now - start) % interval)
