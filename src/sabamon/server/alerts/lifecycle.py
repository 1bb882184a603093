"""The alert state machine of one (monitor, target): a pure step per evaluated minute.

`step(state, observation, policy)` updates the state in place and returns the changes
the engine must record (and maybe notify). Rules, in order:

- A minute at or before `state.last_minute` was already evaluated: nothing happens (the
  store keeps `last_minute`, so a repeated evaluation never duplicates an alert).
- An alert opens after `max_check_attempts` consecutive non-OK evaluations.
- While open, a different non-OK status is a status change (escalation or not).
- An OK evaluation closes the alert unless the hold-down has not elapsed, or the target
  is flapping (≥ `flap_threshold` OK↔not-OK toggles within the window); then the alert
  stays open and a return to not-OK is folded into it (`flap_count` += 1, not notified).
  A flapping alert closes on an OK evaluation after a whole window without a toggle.
- `notification_interval` re-notifies an alert that stays open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChangeKind = Literal["open", "status", "fold", "close", "renotify"]


@dataclass
class TargetState:
    monitor_id: str
    target: str  # host id for host-side monitors, "" otherwise
    last_minute: int = -1
    level: str = "OK"  # the status of the last evaluation
    attempts: int = 0  # consecutive non-OK evaluations
    alert_id: str | None = None
    alert_status: str = "OK"
    opened_at: int | None = None
    notified_at: int | None = None
    flapping: bool = False
    flap_count: int = 0
    toggles: list[int] = field(default_factory=list)  # minutes when OK↔not-OK flipped


@dataclass(frozen=True)
class Policy:
    max_check_attempts: int = 1
    hold_down_minutes: int | None = None
    flap_window_minutes: int | None = None
    flap_threshold: int | None = None
    notification_interval: int | None = None  # minutes


@dataclass(frozen=True)
class Observation:
    minute: int  # epoch seconds of the evaluated minute
    status: str
    value: float | None = None
    message: str = ""


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    status: str
    notify: bool


def _recent_toggles(state: TargetState, minute: int, policy: Policy) -> list[int]:
    if not policy.flap_window_minutes:
        return []
    horizon = minute - policy.flap_window_minutes * 60
    return [t for t in state.toggles if t > horizon]


def _may_close(state: TargetState, minute: int, policy: Policy) -> bool:
    hold_down = (policy.hold_down_minutes or 0) * 60
    if state.opened_at is not None and minute - state.opened_at < hold_down:
        return False
    if state.flapping:
        return (
            not state.toggles
            or state.toggles[-1] <= minute - (policy.flap_window_minutes or 0) * 60
        )
    return True


def step(state: TargetState, obs: Observation, policy: Policy) -> list[Change]:
    if obs.minute <= state.last_minute:
        return []
    was_bad, is_bad = state.level != "OK", obs.status != "OK"
    state.last_minute = obs.minute
    if was_bad != is_bad and policy.flap_window_minutes:
        state.toggles.append(obs.minute)
    state.toggles = _recent_toggles(state, obs.minute, policy)
    if policy.flap_threshold and len(state.toggles) >= policy.flap_threshold:
        state.flapping = True
    state.level = obs.status
    state.attempts = state.attempts + 1 if is_bad else 0

    changes: list[Change] = []
    if state.alert_id is None:
        if is_bad and state.attempts >= policy.max_check_attempts:
            state.alert_status, state.opened_at, state.flap_count = obs.status, obs.minute, 0
            state.notified_at = obs.minute
            changes.append(Change("open", obs.status, notify=True))
        return changes
    if not is_bad:
        if _may_close(state, obs.minute, policy):
            state.alert_status, state.flapping = "OK", False
            changes.append(Change("close", "OK", notify=True))
        return changes
    if not was_bad:
        state.flap_count += 1
        state.alert_status = obs.status
        changes.append(Change("fold", obs.status, notify=False))
    elif obs.status != state.alert_status:
        state.alert_status = obs.status
        state.notified_at = obs.minute
        changes.append(Change("status", obs.status, notify=True))
    interval = policy.notification_interval
    if (
        interval
        and state.notified_at is not None
        and obs.minute - state.notified_at >= interval * 60
    ):
        state.notified_at = obs.minute
        changes.append(Change("renotify", state.alert_status, notify=True))
    return changes


def forget_alert(state: TargetState) -> None:
    """After the alert closed (by the machine or by hand), the next one starts afresh."""
    state.alert_id, state.alert_status, state.opened_at = None, "OK", None
    state.flapping, state.flap_count, state.notified_at = False, 0, None
