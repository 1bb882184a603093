"""Counter samples for the delta collectors: the first collection reads twice `interval`
seconds apart, so it already carries full rates; every later one reads once and pairs the
reading with the one kept from the collection before, so no collection sleeps.

A rate posted at tick T therefore covers the minute that ends at T (the first one: the
`interval` after the agent started), where mackerel-agent samples for the minute after T.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Sample = TypeVar("Sample")


class DeltaSampler(Generic[Sample]):
    """Pairs of readings of one counter source, with the seconds between them."""

    def __init__(self, read: Callable[[], Sample], clock: Callable[[], float]) -> None:
        self._read = read
        self._clock = clock
        self._last: tuple[Sample, float] | None = None
        self._lock = threading.Lock()

    def pair(self, interval: float, stop: threading.Event) -> tuple[Sample, Sample, float]:
        """The previous reading (or a fresh one, `interval` seconds back, less if `stop` is
        set), a new reading, and the seconds measured between them. A call made while the
        first one waits pairs with the first reading at once."""
        with self._lock:
            kept = self._last
            last = kept if kept is not None else (self._read(), self._clock())
            self._last = last
        if kept is None:
            stop.wait(interval)
        current = (self._read(), self._clock())
        with self._lock:
            if current[1] >= self._last[1]:
                self._last = current
        return last[0], current[0], current[1] - last[1]
