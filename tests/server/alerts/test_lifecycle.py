"""The per-target alert state machine, minute by minute."""

from __future__ import annotations

from sabamon.server.alerts.lifecycle import (
    Observation,
    Policy,
    TargetState,
    forget_alert,
    step,
)
from sabamon.server.alerts.thresholds import classify


def run(statuses: list[str], policy: Policy) -> list[list[tuple[str, str]]]:
    """Feeds one status per minute; returns the changes of each minute."""
    state = TargetState("m", "h")
    out = []
    for minute, status in enumerate(statuses):
        changes = step(state, Observation(minute * 60, status), policy)
        for change in changes:
            if change.kind == "open":
                state.alert_id = "a"
            if change.kind == "close":
                forget_alert(state)
        out.append([(c.kind, c.status) for c in changes])
    return out


def test_opens_after_max_check_attempts_escalates_and_closes() -> None:
    result = run(["WARNING", "WARNING", "CRITICAL", "CRITICAL", "OK"], Policy(max_check_attempts=2))
    assert result == [[], [("open", "WARNING")], [("status", "CRITICAL")], [], [("close", "OK")]]


def test_same_minute_twice_is_a_no_op() -> None:
    state = TargetState("m", "h")
    assert [c.kind for c in step(state, Observation(60, "CRITICAL"), Policy())] == ["open"]
    state.alert_id = "a"
    assert step(state, Observation(60, "CRITICAL"), Policy()) == []
    assert step(state, Observation(0, "OK"), Policy()) == []


def test_hold_down_keeps_the_alert_open_and_folds_the_return() -> None:
    result = run(["CRITICAL", "OK", "CRITICAL", "OK", "OK", "OK"], Policy(hold_down_minutes=3))
    assert result == [[("open", "CRITICAL")], [], [("fold", "CRITICAL")], [("close", "OK")], [], []]


def test_flapping_folds_into_one_alert_with_a_counter() -> None:
    policy = Policy(flap_window_minutes=5, flap_threshold=3)
    state = TargetState("m", "h")
    kinds = []
    for minute, status in enumerate(
        ["CRITICAL", "OK", "CRITICAL", "OK", "CRITICAL", "OK"] + ["OK"] * 6
    ):
        for change in step(state, Observation(minute * 60, status), policy):
            kinds.append((minute, change.kind))
            if change.kind == "open":
                state.alert_id = f"a{minute}"
            if change.kind == "close":
                forget_alert(state)
    # minute 1 closes (not flapping yet), minute 2 reopens; from the third toggle on the
    # alert stays open, the return at minute 4 is folded, and it closes after a quiet window.
    assert kinds == [(0, "open"), (1, "close"), (2, "open"), (4, "fold"), (10, "close")]


def test_renotifies_at_the_interval() -> None:
    result = run(["CRITICAL"] * 21, Policy(notification_interval=10))
    renotified = [m for m, changes in enumerate(result) if ("renotify", "CRITICAL") in changes]
    assert renotified == [10, 20]


def test_hysteresis_keeps_an_oscillating_series_in_one_alert() -> None:
    values = [79, 81, 79.5, 80.5, 79, 81, 70, 69]
    status, statuses = "OK", []
    for value in values:
        status = classify(value, ">", 80, None, previous=status, recovery_warning=75)
        statuses.append(status)
    assert statuses == ["OK", "WARNING", "WARNING", "WARNING", "WARNING", "WARNING", "OK", "OK"]
    assert [c for c in run(statuses, Policy()) if c] == [[("open", "WARNING")], [("close", "OK")]]
    plain = [classify(v, ">", 80, None) for v in values]
    assert sum(1 for c in run(plain, Policy()) if ("open", "WARNING") in c) == 3


def test_classify_levels() -> None:
    assert classify(5, "<", 10, 3) == "WARNING"
    assert classify(2, "<", 10, 3) == "CRITICAL"
    assert classify(4, "<", 10, 3, previous="CRITICAL", recovery_critical=5) == "CRITICAL"
    assert classify(11, "<", 10, 3, previous="CRITICAL", recovery_critical=5) == "OK"
