"""Check plugins: Nagios-style commands whose exit code becomes a check monitor's status.

    loop = CheckLoop(
        checks,            # CheckPluginConfig tuple from parse_plugins
        runner,            # the shared PluginRunner
        submit_reports,    # (reports: list[dict]) -> None, puts ≤ 20 §6 reports on the spool
        resolve_host_id,   # (custom_identifier: str | None) -> host id, None if unresolved
        clock=SystemClock(),
        flush_interval=60.0,
    )
    threading.Thread(target=loop.run, args=(stop,)).start()

Each check runs in its own thread at a fixed cadence (first run at once). Reports follow
mackerel-agent's rules: an unchanged OK is not sent, a check with `prevent_alert_auto_close`
never sends OK, a status change flushes at once (except the first OK), otherwise pending
reports are flushed every minute, grouped by host, in batches of 20. On stop the pending
reports are flushed once more.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sabamon.agent.clock import Clock, SystemClock, next_delay
from sabamon.agent.plugins.config import CheckPluginConfig
from sabamon.agent.plugins.runner import PluginRunner, RunResult

log = logging.getLogger(__name__)

MESSAGE_MAX_RUNES = 1024
MIN_NOTIFICATION_INTERVAL = 10
BATCH_SIZE = 20
BUFFER_PER_CHECK = 360
BATCH_PAUSE_SECONDS = 1.0
BACKLOG_BATCH_PAUSE_SECONDS = 15.0

SubmitReports = Callable[[list[dict[str, Any]]], None]
ResolveHostId = Callable[[str | None], str | None]


class CheckStatus(StrEnum):
    OK = "OK"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    UNKNOWN = "UNKNOWN"


_EXIT_STATUS = {0: CheckStatus.OK, 1: CheckStatus.WARNING, 2: CheckStatus.CRITICAL}


@dataclass(frozen=True)
class CheckResult:
    status: CheckStatus
    message: str
    occurred_at: int


def check_result(result: RunResult, occurred_at: int) -> CheckResult:
    """Exit 0/1/2 → OK/WARNING/CRITICAL, anything else UNKNOWN; a run that failed or timed
    out is UNKNOWN with the error as its message."""
    if result.error is not None or result.exit_code is None:
        return CheckResult(CheckStatus.UNKNOWN, result.error or "command failed", occurred_at)
    status = _EXIT_STATUS.get(result.exit_code, CheckStatus.UNKNOWN)
    return CheckResult(status, result.stdout[:MESSAGE_MAX_RUNES], occurred_at)


def report_fields(check: CheckPluginConfig, result: CheckResult) -> dict[str, Any]:
    """A §6 report without its `source` (the host is resolved when it is sent)."""
    fields: dict[str, Any] = {
        "name": check.name,
        "status": str(result.status),
        "message": result.message,
        "occurredAt": result.occurred_at,
    }
    if check.notification_interval is not None:
        fields["notificationInterval"] = max(check.notification_interval, MIN_NOTIFICATION_INTERVAL)
    if check.max_check_attempts:
        fields["maxCheckAttempts"] = check.max_check_attempts
    return fields


@dataclass(frozen=True)
class _Pending:
    custom_identifier: str | None
    fields: dict[str, Any]


class _Checker:
    """One check plugin: runs it, runs its action, and remembers the last status."""

    def __init__(self, config: CheckPluginConfig, runner: PluginRunner, clock: Clock) -> None:
        self.config = config
        self._runner = runner
        self._clock = clock
        self.last: CheckResult | None = None

    @property
    def key(self) -> str:
        return self.config.command.key

    @property
    def interval_seconds(self) -> float:
        return self.config.check_interval_minutes * 60.0

    def check(self) -> CheckResult:
        occurred_at = int(self._clock.now())
        run = self._runner.run(self.config.command)
        if run.stderr:
            log.warning(
                "event=check_stderr plugin=%s stderr=%r", self.config.command.key, run.stderr
            )
        result = check_result(run, occurred_at)
        self._start_action(result)
        return result

    def _start_action(self, result: CheckResult) -> None:
        action = self.config.action
        if action is None:
            return
        env = {
            "MACKEREL_STATUS": str(result.status),
            "MACKEREL_PREVIOUS_STATUS": str(self.last.status) if self.last else "",
            "MACKEREL_CHECK_MESSAGE": result.message,
        }

        def run_action() -> None:
            run = self._runner.run(action, env)
            log.info(
                "event=check_action_ran plugin=%s exit_code=%s stdout=%r stderr=%r error=%r",
                action.key,
                run.exit_code,
                run.stdout,
                run.stderr,
                run.error,
            )

        threading.Thread(target=run_action, name=f"action-{self.config.name}", daemon=True).start()


class CheckLoop:
    """Runs every check plugin on its cadence and hands reports to `submit_reports`."""

    def __init__(
        self,
        checks: Sequence[CheckPluginConfig],
        runner: PluginRunner,
        submit_reports: SubmitReports,
        resolve_host_id: ResolveHostId,
        *,
        clock: Clock | None = None,
        flush_interval: float = 60.0,
    ) -> None:
        self._clock = clock or SystemClock()
        self._checkers = [_Checker(check, runner, self._clock) for check in checks]
        self._submit_reports = submit_reports
        self._resolve_host_id = resolve_host_id
        self._flush_interval = flush_interval
        self._pending: deque[_Pending] = deque(maxlen=BUFFER_PER_CHECK * max(len(checks), 1))
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Check until `stop` is set, then flush what is pending once and return."""
        threads = [
            threading.Thread(
                target=self._run_checker, args=(checker, stop), name=checker.config.name
            )
            for checker in self._checkers
        ]
        for thread in threads:
            thread.daemon = True
            thread.start()
        start = self._clock.now()
        while not stop.is_set():
            self._clock.wait(self._wake, next_delay(start, self._clock.now(), self._flush_interval))
            self._wake.clear()
            if not stop.is_set():
                self.flush(stop)
        self.flush(None)

    def _run_checker(self, checker: _Checker, stop: threading.Event) -> None:
        """Check on the cadence until `stop`; then wake the flusher for its last flush."""
        start = self._clock.now()
        try:
            while not stop.is_set():
                self._accept(checker, checker.check())
                delay = next_delay(start, self._clock.now(), checker.interval_seconds)
                if self._clock.wait(stop, delay):
                    return
        finally:
            self._wake.set()

    def _accept(self, checker: _Checker, result: CheckResult) -> None:
        """Queue the report unless the rules skip it; wake the flusher on a status change."""
        previous, checker.last = checker.last, result
        unchanged_ok = (
            result.status is CheckStatus.OK
            and previous is not None
            and previous.status is CheckStatus.OK
            and previous.message == result.message
        )
        if unchanged_ok:
            return
        if result.status is CheckStatus.OK and checker.config.prevent_alert_auto_close:
            return
        pending = _Pending(checker.config.custom_identifier, report_fields(checker.config, result))
        with self._lock:
            if len(self._pending) == self._pending.maxlen:
                log.warning("event=check_report_dropped reason=buffer_full plugin=%s", checker.key)
            self._pending.append(pending)
        first_ok = previous is None and result.status is CheckStatus.OK
        if not first_ok and (previous is None or previous.status is not result.status):
            self._wake.set()

    def flush(self, stop: threading.Event | None) -> None:
        """Send every pending report, grouped by host, in batches of ≤ 20. With `stop`, pause
        between batches (longer when there is a backlog) unless `stop` is set."""
        with self._lock:
            pending = list(self._pending)
            self._pending.clear()
        batches = self._batches(pending)
        backlog = len(pending) > 2 * len(self._checkers)
        pause = BACKLOG_BATCH_PAUSE_SECONDS if backlog else BATCH_PAUSE_SECONDS
        for index, (batch, _) in enumerate(batches):
            if index and stop is not None and self._clock.wait(stop, pause):
                stop = None
            try:
                self._submit_reports(batch)
            except Exception as exc:
                unsent = [item for _, later in batches[index:] for item in later]
                log.error(
                    "event=check_reports_not_queued reports=%d error=%r", len(unsent), str(exc)
                )
                with self._lock:
                    self._pending.extendleft(reversed(unsent))
                return

    def _batches(
        self, pending: list[_Pending]
    ) -> list[tuple[list[dict[str, Any]], list[_Pending]]]:
        by_host: dict[str, list[_Pending]] = {}
        for item in pending:
            host_id = self._resolve_host_id(item.custom_identifier)
            if host_id is None:
                log.warning(
                    "event=check_report_dropped reason=host_unresolved check=%s identifier=%s",
                    item.fields["name"],
                    item.custom_identifier,
                )
                continue
            by_host.setdefault(host_id, []).append(item)
        batches = []
        for host_id, items in by_host.items():
            for offset in range(0, len(items), BATCH_SIZE):
                chunk = items[offset : offset + BATCH_SIZE]
                reports = [
                    {"source": {"type": "host", "hostId": host_id}, **item.fields} for item in chunk
                ]
                batches.append((reports, chunk))
        return batches
