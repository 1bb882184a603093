"""Downtime windows: one-off and recurring (UTC), scopes and validation."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sabamon.server.alerts.downtimes import (
    MAX_DURATION,
    DowntimeError,
    covers,
    is_active,
    validate_downtime,
)


def at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp())


START = at("2026-01-05T02:00:00")  # a Monday
WEDNESDAYS = {"type": "weekly", "interval": 1, "weekdays": ["Wednesday"]}


def test_one_off_window() -> None:
    spec = validate_downtime({"name": "deploy", "start": START, "duration": 30})
    assert is_active(spec, START) and is_active(spec, START + 29 * 60)
    assert not is_active(spec, START - 1) and not is_active(spec, START + 30 * 60)


@pytest.mark.parametrize(
    ("recurrence", "moment", "active"),
    [
        ({"type": "daily", "interval": 1}, "2026-01-09T02:10:00", True),
        ({"type": "daily", "interval": 2}, "2026-01-06T02:10:00", False),
        ({"type": "hourly", "interval": 3}, "2026-01-05T05:20:00", True),
        (WEDNESDAYS, "2026-01-14T02:05:00", True),
        (WEDNESDAYS, "2026-01-13T02:05:00", False),
        ({"type": "weekly", "interval": 2}, "2026-01-12T02:05:00", False),
        ({"type": "weekly", "interval": 2}, "2026-01-19T02:05:00", True),
        ({"type": "monthly", "interval": 1}, "2026-03-05T02:40:00", True),
        ({"type": "yearly", "interval": 1}, "2027-01-05T02:00:00", True),
        ({"type": "daily", "interval": 1, "until": at("2026-01-07T00:00:00")},
         "2026-01-08T02:10:00", False),
    ],
)  # fmt: skip
def test_recurrences(recurrence: dict[str, object], moment: str, active: bool) -> None:
    spec = validate_downtime(
        {"name": "n", "start": START, "duration": 45, "recurrence": recurrence}
    )
    assert is_active(spec, at(moment)) is active


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["hourly", "daily"]),
    interval=st.integers(1, 5),
    duration=st.integers(1, 5000),
    offset=st.integers(-10_000, 2_000_000),
    until=st.none() | st.integers(-10_000, 2_000_000),
)
def test_hourly_and_daily_windows_match_every_occurrence(
    kind: str, interval: int, duration: int, offset: int, until: int | None
) -> None:
    """Only the last start before `now` (and `until`) is looked at; the answer is the one
    every occurrence gives."""
    recurrence: dict[str, object] = {"type": kind, "interval": interval}
    if until is not None:
        recurrence["until"] = START + until
    spec = validate_downtime(
        {"name": "n", "start": START, "duration": duration, "recurrence": recurrence}
    )
    now, span = START + offset, duration * 60
    period = interval * (3600 if kind == "hourly" else 86400)
    starts = range(START, now + 1, period)
    expected = any(s <= now < s + span and (until is None or s <= START + until) for s in starts)
    assert is_active(spec, now) is expected


def test_the_longest_window_is_checked_at_once() -> None:
    """A window of ten years (the bound) on an hourly or weekly recurrence is judged in
    milliseconds; the longer windows that took seconds and gigabytes are refused."""
    for recurrence in ({"type": "hourly", "interval": 1}, {"type": "weekly", "interval": 1}):
        spec = validate_downtime({"name": "n", "start": START, "duration": MAX_DURATION,
                                  "recurrence": recurrence})  # fmt: skip
        started = time.perf_counter()
        assert is_active(spec, START + 5 * 365 * 86400)
        assert time.perf_counter() - started < 0.5
    with pytest.raises(DowntimeError, match="duration: must be at most 5270400 minutes"):
        validate_downtime({"name": "n", "start": START, "duration": MAX_DURATION + 1})


def test_scopes() -> None:
    spec = validate_downtime({"name": "n", "start": 0, "duration": 1, "roleScopes": ["web: app"],
                              "monitorExcludeScopes": ["m2"]})  # fmt: skip
    assert spec["roleScopes"] == ["web: app"]  # echoed as sent, matched without the space
    assert covers(spec, "m1", {"web"}, {"web:app"})
    assert not covers(spec, "m1", {"web"}, {"web:db"})
    assert not covers(spec, "m2", {"web"}, {"web:app"})
    assert covers(validate_downtime({"name": "all", "start": 0, "duration": 1}), "m", set(), set())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": 0, "duration": 1}, "name"),
        ({"name": "n", "start": 0, "duration": 0}, "duration"),
        ({"name": "n", "start": 0, "duration": 1, "recurrence": {"type": "x"}}, "recurrence.type"),
        ({"name": "n", "start": 0, "duration": 1,
          "recurrence": {"type": "weekly", "interval": 1, "weekdays": ["Funday"]}},
         "recurrence.weekdays"),
    ],
)  # fmt: skip
def test_invalid_downtimes_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(DowntimeError, match=rf"^{field}:"):
        validate_downtime(body)
