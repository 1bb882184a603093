"""Rate-limited warnings for values the agent drops: one WARNING per (source, problem) per
interval, naming the source (a plugin or collector) and the metric, then a count of what
was dropped meanwhile. A plugin that prints the same bad line every minute costs one log
line an hour, not sixty."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 3600.0


class ProblemLog:
    """`warn(source, problem, metric, detail)`: logs the first occurrence of each (source,
    problem) and then at most once per `interval` seconds, with `suppressed=N` counting the
    occurrences in between. `problem` is a short kind (`name`, `value`, `max_values`...)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, interval: float = DEFAULT_INTERVAL
    ) -> None:
        self.clock = clock
        self.interval = interval
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def warn(self, source: str, problem: str, metric: str, detail: str) -> None:
        key = (source, problem)
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        log.warning(
            "event=value_dropped source=%s metric=%s problem=%s detail=%r suppressed=%d",
            source,
            metric,
            problem,
            detail,
            suppressed,
        )
