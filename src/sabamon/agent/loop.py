"""mackerel-agent's post loop (spec/agent.md §1), posting from the durable spool.

The poster takes the oldest batch plus one more if there is one (at most two per post),
sleeps by state and posts. Unlike the original the batches stay in the spool in time order,
so a backlog drains oldest first; the queued delay (30 s) caps a backlog at two posts a
minute, and a 503's Retry-After pushes the next post back.

What a failure means (the original drops a batch after 60 failed posts whatever the cause;
here a batch is dropped only when the server refused it, never for an outage):
- a network error, a 5xx, 408 or 429 is temporary: the batch stays and is retried, however
  long the outage; only the spool's bound evicts (oldest first, counted);
- 413: the post is split, two batches into one, then one batch into halves, until the parts
  fit (a single value that does not fit is dropped, logged);
- 401 or 403: the key, not the data, is wrong: the batch stays and is retried;
- any other 4xx (400: a value the server refuses): two batches are posted one by one so the
  refusal costs only its own batch, which is then dropped, logged with the server's words (a
  sabamon server has stored its valid points: a partial write).
A post whose oldest point is older than `BACKLOG_AGE` carries the replay header, so a
sabamon server stores points older than its 24 h window, back to its raw retention.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

try:  # the builtin module, as `random` does: hashlib loads OpenSSL (~3.6 MB RSS)
    from _sha1 import sha1
except ImportError:  # pragma: no cover - interpreters built without it
    from hashlib import sha1

from sabamon.agent.api import (
    AgentApi,
    ApiError,
    is_network_error,
    is_refused,
)
from sabamon.agent.clock import SYSTEM_CLOCK, Clock
from sabamon.agent.spool import Batch, BatchKind, Spool

log = logging.getLogger(__name__)

BACKLOG_AGE = 600.0
"""Seconds: a post holding a point older than this is a backlog post (the replay header)."""


@dataclass(frozen=True)
class LoopTimings:
    """Every interval of the loop, with the original's defaults; tests shrink them."""

    post_interval: float = 60.0  # the minute: ticks and the per-host second live in it
    delta_interval: float = 60.0  # how long delta collectors sample
    tick_resolution: float = 60.0  # longest sleep between two reads of the wall clock
    max_concurrent_collections: int = 3
    slow_collection_warning: float = 120.0
    queued_delay: float = 30.0
    error_delay: float = 60.0
    terminating_delay: float = 1.0
    network_retry_window: float = 25.0
    max_terminating: float = 30.0
    max_retry_after: float = 3600.0
    spec_interval: float = 3600.0
    check_retry_delay: float = 30.0


class PostState(Enum):
    FIRST = "first"
    DEFAULT = "default"
    QUEUED = "queued"
    HAD_ERROR = "hadError"
    TERMINATING = "terminating"


def host_delay_seconds(host_id: str, period: int = 60) -> int:
    """The host's own posting second: the last byte of sha1(host id) modulo the period."""
    return sha1(host_id.encode()).digest()[19] % period


def next_delay(state: PostState, now: float, host_delay: float, timings: LoopTimings) -> float:
    """How long to sleep before the next post, by state (the original's `loopState`)."""
    if state is PostState.FIRST:
        return 0.0
    if state is PostState.QUEUED:
        return timings.queued_delay
    if state is PostState.HAD_ERROR:
        return timings.error_delay
    if state is PostState.TERMINATING:
        return timings.terminating_delay
    elapsed = int(now % timings.post_interval)
    return float(host_delay - elapsed) if host_delay > elapsed else 0.0


class Shutdown:
    """Counts INT/TERM/QUIT: the first asks for a drain, the second forces the exit. Each
    request also arms a timer that sends another after `max_terminating` seconds, and calls
    the listeners, which wake the waits that sleep until work or a terminate arrives."""

    def __init__(self, max_terminating: float) -> None:
        self.max_terminating = max_terminating
        self._requests = 0
        self._changed = threading.Condition()
        self._timers: list[threading.Timer] = []
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, wake: Callable[[], None]) -> None:
        """Call `wake` (from the requesting thread) on every request."""
        self._listeners.append(wake)

    def request(self) -> None:
        with self._changed:
            self._requests += 1
            self._changed.notify_all()
        for wake in self._listeners:
            wake()
        timer = threading.Timer(self.max_terminating, self.request)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    @property
    def terminating(self) -> bool:
        return self._requests >= 1

    @property
    def forced(self) -> bool:
        return self._requests >= 2

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout`; True if a new request arrived meanwhile."""
        with self._changed:
            seen = self._requests
            return self._changed.wait_for(lambda: self._requests != seen, max(0.0, timeout))

    def sleep_until_terminating(self, timeout: float) -> None:
        """Sleep up to `timeout`, or not at all once a terminate was requested (even one
        that arrived before the call)."""
        with self._changed:
            self._changed.wait_for(lambda: self._requests >= 1, max(0.0, timeout))

    def cancel_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()


class ForcedExit(Exception):
    """A second terminate request arrived while draining."""


class MetricPoster:
    """Posts spooled metric batches to `POST /api/v0/tsdb` (the main loop of §1)."""

    def __init__(
        self,
        api: AgentApi,
        spool: Spool,
        timings: LoopTimings,
        host_delay: float,
        shutdown: Shutdown,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.api = api
        self.spool = spool
        self.timings = timings
        self.host_delay = host_delay
        self.shutdown = shutdown
        self.clock = clock
        self.state = PostState.FIRST
        self._not_before = 0.0  # set by a Retry-After
        shutdown.add_listener(spool.wake_waiters)

    def run(self) -> None:
        """Post until terminated and drained; raise ForcedExit on a second request."""
        while True:
            self._sleep_until_host_second()
            if not self._wait_for_batch():
                return
            delay = next_delay(self.state, self.clock.now(), self.host_delay, self.timings)
            delay = max(delay, self._not_before - self.clock.now())
            if self.state is not PostState.TERMINATING:
                queued = self.spool.count(BatchKind.METRICS) > 2
                self.state = PostState.QUEUED if queued else PostState.DEFAULT
            log.debug("event=post_sleep seconds=%.1f state=%s", delay, self.state.value)
            if self.shutdown.wait(delay):
                if self.shutdown.forced:
                    raise ForcedExit("received terminate instruction again. force return")
                self.state = PostState.TERMINATING
            self._post(self.spool.oldest(BatchKind.METRICS, 2))
            if self.shutdown.forced:
                raise ForcedExit("received terminate instruction again. force return")

    def _sleep_until_host_second(self) -> None:
        """With nothing spooled in the default state, the next batch comes at the next tick
        and is posted at the host's second: sleep until the middle of that second now, so a
        post costs one wake-up instead of two (at the append, then at the second). A batch
        that is late, or a terminate, is then waited for as before."""
        if self.state is not PostState.DEFAULT or self.spool.count(BatchKind.METRICS):
            return
        middle = self.host_delay + 0.5
        # a terminate that came during the last post wakes nothing: it must end this sleep too
        self.shutdown.sleep_until_terminating(
            (middle - self.clock.now()) % self.timings.post_interval
        )

    def _wait_for_batch(self) -> bool:
        """Sleep until a batch is spooled; False when terminating with nothing left."""
        if not self.spool.wait_for(BatchKind.METRICS, until=lambda: self.shutdown.terminating):
            return False
        if self.shutdown.terminating:
            self.state = PostState.TERMINATING
        return True

    def _post(self, batches: list[Batch]) -> None:
        if not batches:
            return
        values = [value for batch in batches for value in batch.body]
        error = self._send(values)
        if error is None:
            self.spool.ack([batch.seq for batch in batches])
            log.debug("event=posted batches=%d values=%d", len(batches), len(values))
        elif len(batches) > 1 and (error.status == 413 or is_refused(error)):
            for batch in batches:  # one by one: a refusal or a size costs only its batch
                if not self._post_one(batch):
                    return
        elif len(batches) == 1 and (error.status == 413 or is_refused(error)):
            self._post_one(batches[0], error)
        else:
            self._failed(error)

    def _post_one(self, batch: Batch, error: ApiError | None = None) -> bool:
        """Post one batch (halving it on 413) and forget it once every part is stored or
        refused; False when a temporary failure leaves it in the spool."""
        error = deliver_halving(self._send, batch.body, "values", error)
        if error is not None:
            self._failed(error)
            return False
        self.spool.ack([batch.seq])
        return True

    def _send(self, values: list[dict[str, Any]]) -> ApiError | None:
        """One post (with the immediate retry after a network error); the error or None."""
        oldest = min((value.get("time") or 0 for value in values), default=0)
        replay = 0 < oldest < self.clock.now() - BACKLOG_AGE
        return sent(
            lambda: self.api.post_metric_values(values, replay=replay),
            self.clock,
            self.timings.network_retry_window,
        )

    def _failed(self, err: ApiError) -> None:
        """A temporary failure (or a key the server does not take): the batches stay in the
        spool and the next post waits for the error delay or the Retry-After."""
        log.warning("event=post_failed will_retry=true error=%r", str(err))
        if self.state is not PostState.TERMINATING:
            self.state = PostState.HAD_ERROR
        if err.retry_after is not None:
            wait = min(err.retry_after, self.timings.max_retry_after)
            self._not_before = self.clock.now() + wait


def post_with_network_retry(post: Callable[[], None], clock: Clock, window: float) -> None:
    """Post; after a network error within `window` seconds of the start, retry once at once."""
    started = clock.now()
    try:
        post()
    except ApiError as err:
        if not is_network_error(err) or clock.now() - started > window:
            raise
        log.info("event=network_error_retry error=%r", str(err))
        post()


def sent(post: Callable[[], None], clock: Clock, window: float) -> ApiError | None:
    """`post_with_network_retry`, its ApiError returned instead of raised (None: stored)."""
    try:
        post_with_network_retry(post, clock, window)
    except ApiError as err:
        return err
    return None


def deliver_halving(
    send: Callable[[list[dict[str, Any]]], ApiError | None],
    items: list[dict[str, Any]],
    what: str,
    error: ApiError | None = None,
) -> ApiError | None:
    """Post `items` (metric values, check reports, graph definitions: objects with a
    `name`) with `send` (unless `error` already answered that post), halving the post on
    413 until the parts fit; a part the server refuses (a 4xx other than 401, 403, 408,
    429), or a single item still too large, is dropped and logged (`event=<what>_refused`
    with the first item's name), so it costs only itself. None when every part was stored
    or dropped, else the first temporary error (the rest is not sent)."""
    if error is None:
        error = send(items)
    if error is None:
        return None
    if error.status == 413 and len(items) > 1:
        middle = len(items) // 2
        log.warning("event=post_split %s=%d reason=%r", what, len(items), str(error))
        return deliver_halving(send, items[:middle], what) or deliver_halving(
            send, items[middle:], what
        )
    if error.status == 413 or is_refused(error):
        log.error(
            "event=%s_refused %s=%d first=%s error=%r",
            what,
            what,
            len(items),
            items[0].get("name") if items else None,
            str(error),
        )
        return None
    return error


class CheckReportPoster:
    """Posts spooled check-report batches: a 413 halves the post until the parts fit, a
    refusal (a 4xx other than 401, 403, 408, 429) or a single report still too large drops
    only that part (a sabamon server has stored a refused part's valid reports); anything
    else keeps the batch and retries it every `check_retry_delay`; on terminate it flushes
    what is pending once."""

    def __init__(
        self,
        api: AgentApi,
        spool: Spool,
        timings: LoopTimings,
        shutdown: Shutdown,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.api = api
        self.spool = spool
        self.timings = timings
        self.shutdown = shutdown
        self.clock = clock
        shutdown.add_listener(spool.wake_waiters)

    def run(self) -> None:
        while self.spool.wait_for(BatchKind.CHECK_REPORTS, until=self._terminating):
            if self._terminating():
                break
            if not self.post_oldest():
                self.shutdown.sleep_until_terminating(self.timings.check_retry_delay)
        for _ in range(self.spool.count(BatchKind.CHECK_REPORTS)):
            if not self.post_oldest():
                break

    def _terminating(self) -> bool:
        return self.shutdown.terminating

    def post_oldest(self) -> bool:
        """Post the oldest batch; False if it should be retried later."""
        batches = self.spool.oldest(BatchKind.CHECK_REPORTS, 1)
        if not batches:
            return True
        error = deliver_halving(self._send, batches[0].body, "check_reports")
        if error is not None:
            log.warning("event=check_reports_failed will_retry=true error=%r", str(error))
            return False
        self.spool.ack([batches[0].seq])
        return True

    def _send(self, reports: list[dict[str, Any]]) -> ApiError | None:
        return sent(
            lambda: self.api.post_check_reports(reports),
            self.clock,
            self.timings.network_retry_window,
        )
