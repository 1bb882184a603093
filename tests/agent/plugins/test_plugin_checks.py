"""Check plugins run as real scripts on a hand-moved clock: statuses, report bodies, the
reporting rules of §7, actions, cadence without drift, a standard Nagios check."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import FakeClock, command, script
from tests.support.waiting import wait_until

from sabamon.agent.plugins.checks import CheckLoop, CheckStatus, check_result
from sabamon.agent.plugins.config import CheckPluginConfig, PluginCommand
from sabamon.agent.plugins.runner import PluginRunner

START = 1_000_000.0
NAGIOS = Path("/usr/lib/nagios/plugins")


class Reports:
    """The core's `submit_reports`: records each batch it is handed."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __call__(self, reports: list[dict[str, Any]]) -> None:
        with self._lock:
            self.batches.append(reports)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [report for batch in self.batches for report in batch]


def check(name: str, exit_file: Path | None = None, **options: Any) -> CheckPluginConfig:
    env = {"CHECK_EXIT_FILE": str(exit_file)} if exit_file else {}
    env.update(options.pop("env", {}))
    plugin = PluginCommand(key=f"plugin.checks.{name}", command=script("check.sh"), env=env)
    return CheckPluginConfig(name=name, command=plugin, **options)


def resolve(custom_identifier: str | None) -> str | None:
    return {None: "host-self", "db.example": "host-db"}.get(custom_identifier)


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@contextlib.contextmanager
def running(loop: CheckLoop, stop: threading.Event) -> Iterator[None]:
    """Runs the loop in a thread for the block, then stops it and waits for it to end."""
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("exit_code", "status"),
    [(0, "OK"), (1, "WARNING"), (2, "CRITICAL"), (3, "UNKNOWN"), (4, "UNKNOWN"), (255, "UNKNOWN")],
)
def test_exit_codes(runner: PluginRunner, exit_code: int, status: str) -> None:
    run = runner.run(command(script("check.sh"), env={"CHECK_EXIT": str(exit_code)}))
    result = check_result(run, 123)
    assert (result.status, result.message) == (CheckStatus(status), f"status {exit_code}\n")


def test_timeout_and_missing_are_unknown_with_the_error(runner: PluginRunner) -> None:
    timed_out = check_result(runner.run(command((script("ignore_term.py"),), timeout=0.2)), 1)
    assert (timed_out.status, timed_out.message) == ("UNKNOWN", "command timed out after 0.2s")
    missing = check_result(runner.run(command(("/nonexistent/check",))), 1)
    assert missing.status == "UNKNOWN" and "No such file" in missing.message


def test_message_is_cut_to_1024_runes(runner: PluginRunner) -> None:
    run = runner.run(command(script("check.sh"), env={"CHECK_MESSAGE": "é" * 2000}))
    assert check_result(run, 1).message == "é" * 1024


def test_nagios_check_dummy(runner: PluginRunner) -> None:
    if not (NAGIOS / "check_dummy").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("monitoring-plugins-basic is missing: scripts/test-deps.sh installs it")
        pytest.skip("monitoring-plugins-basic is not installed")
    for code, status in ((0, "OK"), (1, "WARNING"), (2, "CRITICAL"), (3, "UNKNOWN")):
        run = runner.run(command(f"check_dummy {code} 'from nagios'"))  # found on the plugin PATH?
        if run.exit_code == 127:  # not on PATH: name it in full
            run = runner.run(command((str(NAGIOS / "check_dummy"), str(code), "from nagios")))
        result = check_result(run, 1)
        assert result.status == status
        assert result.message == f"{status}: from nagios\n"
    load = check_result(
        runner.run(command((str(NAGIOS / "check_load"), "-w", "999,999,999", "-c", "999,999,999"))),
        1,
    )
    assert load.status == "OK" and "load average" in load.message.lower()


def test_reporting_rules(
    runner: PluginRunner, clock: FakeClock, stop: threading.Event, tmp_path: Path
) -> None:
    exit_file = tmp_path / "exit"
    exit_file.write_text("0")
    reports = Reports()
    loop = CheckLoop(
        [check("svc", exit_file, notification_interval=5, max_check_attempts=3)],
        runner,
        reports,
        resolve,
        clock=clock,
    )
    with running(loop, stop):
        # First run: OK, queued but not flushed at once; the checker and flusher sleep to :60.
        clock.wait_until_sleeping(START + 60, START + 60)
        assert reports.batches == []
        clock.advance(60)  # flush of the first OK; the second OK (unchanged) is skipped
        wait_until(lambda: len(reports.batches) == 1)
        clock.wait_until_sleeping(START + 120, START + 120)
        assert reports.batches == [
            [
                {
                    "source": {"type": "host", "hostId": "host-self"},
                    "name": "svc",
                    "status": "OK",
                    "message": "status 0\n",
                    "occurredAt": int(START),
                    "notificationInterval": 10,
                    "maxCheckAttempts": 3,
                }
            ]
        ]
        exit_file.write_text("2")
        clock.advance(60)  # CRITICAL: a change, flushed without waiting for the minute
        wait_until(lambda: len(reports.batches) == 2)
        assert [(r["status"], r["occurredAt"]) for r in reports.batches[1]] == [
            ("CRITICAL", int(START + 120))
        ]
        clock.wait_until_sleeping(START + 180, START + 180)
        exit_file.write_text("0")
        clock.advance(60)  # back to OK: a change, flushed at once
        wait_until(lambda: len(reports.batches) == 3)
        assert reports.batches[2][0]["status"] == "OK"


def test_prevent_alert_auto_close_never_sends_ok(
    runner: PluginRunner, clock: FakeClock, stop: threading.Event, tmp_path: Path
) -> None:
    exit_file = tmp_path / "exit"
    exit_file.write_text("1")
    reports = Reports()
    loop = CheckLoop(
        [check("sticky", exit_file, prevent_alert_auto_close=True)],
        runner,
        reports,
        resolve,
        clock=clock,
    )
    with running(loop, stop):
        wait_until(lambda: len(reports.batches) == 1)  # WARNING right away
        clock.wait_until_sleeping(START + 60, START + 60)
        exit_file.write_text("0")
        clock.advance(60)
        clock.wait_until_sleeping(START + 120, START + 120)
        clock.advance(60)
        clock.wait_until_sleeping(START + 180, START + 180)
    assert [r["status"] for r in reports.all()] == ["WARNING"]


def test_custom_identifier_hosts_and_batches_of_20(
    runner: PluginRunner, clock: FakeClock, stop: threading.Event
) -> None:
    checks = [check(f"c{i:02}") for i in range(25)]
    checks += [check("db", custom_identifier="db.example"), check("lost", custom_identifier="gone")]
    reports = Reports()
    with running(CheckLoop(checks, runner, reports, resolve, clock=clock), stop):
        clock.wait_until_sleeping(*[START + 60] * 28)  # 27 first OKs wait for the minute flush
        clock.advance(60)
        wait_until(lambda: len(reports.batches) == 1)
        clock.wait_until_sleeping(*[START + 120] * 27, START + 61)  # 1 s pause between batches
        clock.advance(1)
        wait_until(lambda: len(reports.batches) == 2)
        clock.advance(1)
        wait_until(lambda: len(reports.batches) == 3)
    sizes_hosts = [(len(b), {r["source"]["hostId"] for r in b}) for b in reports.batches]
    assert sizes_hosts == [(20, {"host-self"}), (5, {"host-self"}), (1, {"host-db"})]
    assert "lost" not in {r["name"] for r in reports.all()}


def test_action_gets_status_variables(
    runner: PluginRunner, clock: FakeClock, stop: threading.Event, tmp_path: Path
) -> None:
    exit_file, action_log = tmp_path / "exit", tmp_path / "actions"
    exit_file.write_text("1")
    action = PluginCommand(
        key="plugin.checks.a.action",
        command=script("action_record.sh"),
        env={"ACTION_LOG": str(action_log)},
    )
    loop = CheckLoop(
        [check("a", exit_file, action=action)], runner, Reports(), resolve, clock=clock
    )
    with running(loop, stop):
        # The message keeps the plugin's newline, so each record is followed by an empty line.
        wait_until(lambda: action_log.exists() and action_log.read_text().count("|status") == 1)
        exit_file.write_text("2")
        clock.wait_until_sleeping(START + 60, START + 60)
        clock.advance(60)
        wait_until(lambda: action_log.read_text().count("|status") == 2)
    assert action_log.read_text() == "WARNING||status 1\n\nCRITICAL|WARNING|status 2\n\n"


def test_cadence_does_not_drift(
    runner: PluginRunner, clock: FakeClock, stop: threading.Event, tmp_path: Path
) -> None:
    exit_file = tmp_path / "exit"
    exit_file.write_text("1")  # WARNING every time, so every run is reported
    reports = Reports()
    loop = CheckLoop(
        [check("tick", exit_file, check_interval_minutes=2)],
        runner,
        reports,
        resolve,
        clock=clock,
        flush_interval=3600,
    )
    with running(loop, stop):
        runs = [START]
        for slot, late_by in enumerate((7.0, 0.5, 100.0, 0.0), start=1):
            due = START + 120 * slot
            # The checker sleeps to its slot on the two-minute grid; the machine wakes it late.
            wait_until(lambda: due in clock.waiting)  # noqa: B023 - called before `due` moves on
            clock.advance(due + late_by - clock.now())
            runs.append(due + late_by)
        wait_until(lambda: START + 120 * 5 in clock.waiting)
    assert [r["occurredAt"] for r in reports.all()] == [int(t) for t in runs]


def test_stop_flushes_pending_reports(
    runner: PluginRunner, clock: FakeClock, stop: threading.Event
) -> None:
    reports = Reports()
    with running(CheckLoop([check("ok")], runner, reports, resolve, clock=clock), stop):
        clock.wait_until_sleeping(START + 60, START + 60)
        assert reports.batches == []
    assert [r["status"] for r in reports.all()] == ["OK"]


def test_reports_kept_when_the_spool_refuses(
    runner: PluginRunner, clock: FakeClock, stop: threading.Event
) -> None:
    accepted: list[dict[str, Any]] = []
    refused = threading.Event()

    def submit(batch: list[dict[str, Any]]) -> None:
        if not refused.is_set():
            refused.set()
            raise OSError("disk full")
        accepted.extend(batch)

    with running(
        CheckLoop([check("w", env={"CHECK_EXIT": "1"})], runner, submit, resolve, clock=clock), stop
    ):
        wait_until(refused.is_set)  # the immediate flush of the WARNING failed
        clock.wait_until_sleeping(START + 60, START + 60)
        assert accepted == []
        clock.advance(60)
        wait_until(lambda: len(accepted) >= 1)  # kept, and sent with the minute's flush
        clock.wait_until_sleeping(START + 120, START + 120)  # the second run's report is queued
    # The refused report first, then the second run's WARNING (sent then or on stop).
    assert [r["occurredAt"] for r in accepted] == [int(START), int(START + 60)]
