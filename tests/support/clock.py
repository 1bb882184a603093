"""A clock the test moves by hand, for the agent's `Clock` protocol and the server's
`Callable[[], float]` clocks alike."""

from __future__ import annotations

import threading


class StepClock:
    """Reads `time` (seconds since the epoch) until the test sets another; `wait` never
    sleeps: it answers whether the event is set."""

    def __init__(self, time: float) -> None:
        self.time = time

    def now(self) -> float:
        return self.time

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.is_set()

    def __call__(self) -> float:
        return self.time
