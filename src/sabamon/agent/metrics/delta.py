"""Two samples of a counter source, `interval` seconds apart, for the delta collectors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

Sample = TypeVar("Sample")


def sample_twice(
    read: Callable[[], Sample],
    interval: float,
    stop: threading.Event,
    clock: Callable[[], float],
) -> tuple[Sample, Sample, float]:
    """Read, wait `interval` seconds (less if `stop` is set), read again; return both samples
    and the seconds measured between them, so an interrupted wait still gives true rates."""
    first = read()
    started = clock()
    stop.wait(interval)
    second = read()
    return first, second, clock() - started
