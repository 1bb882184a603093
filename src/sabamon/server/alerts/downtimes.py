"""Downtimes (api.md §9): one-off or recurring windows that suppress notifications.

Recurrences repeat the window every `interval` hours, days, weeks (on `weekdays`, or on
the start's weekday), months or years from `start`, in UTC, until `until` (if set).
Scopes: `serviceScopes`, `roleScopes` ("service:role"), `monitorScopes` (monitor ids) and
their `...ExcludeScopes`; a downtime without scopes covers everything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

RECURRENCE_TYPES = ("hourly", "daily", "weekly", "monthly", "yearly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SCOPE_KEYS = (
    "serviceScopes", "serviceExcludeScopes", "roleScopes", "roleExcludeScopes",
    "monitorScopes", "monitorExcludeScopes",
)  # fmt: skip


class DowntimeError(ValueError):
    """An invalid downtime; the message names the field."""


MAX_DURATION = 3660 * 24 * 60
"""Minutes a downtime's window may last, about ten years (Mackerel documents no bound):
a weekly recurrence looks back over the window's days each time it is checked."""


def _int(body: dict[str, Any], key: str, low: int, high: int | None = None) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DowntimeError(f"{key}: must be an integer of at least {low}")
    if high is not None and value > high:
        raise DowntimeError(f"{key}: must be at most {high} minutes (about ten years)")
    return value


def validate_downtime(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise DowntimeError("body: must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DowntimeError("name: is required")
    memo = body.get("memo") or ""
    if not isinstance(memo, str):
        raise DowntimeError("memo: must be a string")
    out: dict[str, Any] = {"name": name, "memo": memo, "start": _int(body, "start", 0),
                           "duration": _int(body, "duration", 1, MAX_DURATION)}  # fmt: skip
    recurrence = body.get("recurrence")
    if recurrence is not None:
        if not isinstance(recurrence, dict) or recurrence.get("type") not in RECURRENCE_TYPES:
            raise DowntimeError(f"recurrence.type: must be one of {', '.join(RECURRENCE_TYPES)}")
        rec: dict[str, Any] = {"type": recurrence["type"]}
        try:
            rec["interval"] = _int(recurrence, "interval", 1)
        except DowntimeError as exc:
            raise DowntimeError(f"recurrence.{exc}") from None
        weekdays = recurrence.get("weekdays")
        if weekdays is not None:
            if not isinstance(weekdays, list) or not all(d in WEEKDAYS for d in weekdays):
                raise DowntimeError("recurrence.weekdays: must name days, e.g. 'Monday'")
            rec["weekdays"] = weekdays
        until = recurrence.get("until")
        if until is not None:
            rec["until"] = _int(recurrence, "until", 0)
        out["recurrence"] = rec
    for key in SCOPE_KEYS:
        value = body.get(key)
        if value is not None:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DowntimeError(f"{key}: must be a list of strings")
            out[key] = list(value)  # echoed as sent; `covers` ignores the spaces
    return out


def _add_months(start: dt.datetime, months: int) -> dt.datetime | None:
    year, month = divmod(start.month - 1 + months, 12)
    try:
        return start.replace(year=start.year + year, month=month + 1)
    except ValueError:  # no such day in that month (e.g. the 31st)
        return None


def _occurrence_starts(spec: dict[str, Any], now: int) -> list[int]:
    """Candidate window starts at or before `now` whose window could still cover it."""
    start, span = spec["start"], spec["duration"] * 60
    rec = spec.get("recurrence")
    if rec is None or now < start:
        return [start]
    interval, kind = rec["interval"], rec["type"]
    if kind in ("hourly", "daily"):
        # the last start at or before both `now` and `until`: if its window does not cover
        # `now`, no earlier one's does (windows are the same length)
        period = interval * (3600 if kind == "hourly" else 86400)
        latest = min(now, rec.get("until", now))
        return [start + (latest - start) // period * period] if latest >= start else []
    first = dt.datetime.fromtimestamp(start, dt.UTC)
    if kind == "weekly":
        days = rec.get("weekdays") or [WEEKDAYS[first.weekday()]]
        week0 = first.date() - dt.timedelta(days=first.weekday())
        out = []
        for back in range(span // 86400 + 2):
            day = dt.datetime.fromtimestamp(now, dt.UTC).date() - dt.timedelta(days=back)
            weeks = (day - dt.timedelta(days=day.weekday()) - week0).days // 7
            if WEEKDAYS[day.weekday()] in days and weeks >= 0 and weeks % interval == 0:
                moment = dt.datetime.combine(day, first.timetz())
                out.append(int(moment.timestamp()))
        return [s for s in out if s >= start]
    months_per_step = interval * (12 if kind == "yearly" else 1)
    current = dt.datetime.fromtimestamp(now, dt.UTC)
    elapsed = (current.year - first.year) * 12 + current.month - first.month
    k = elapsed // months_per_step
    candidates = [_add_months(first, (k - i) * months_per_step) for i in range(2) if k - i >= 0]
    return [int(c.timestamp()) for c in candidates if c is not None]


def is_active(spec: dict[str, Any], now: int) -> bool:
    until = (spec.get("recurrence") or {}).get("until")
    span = spec["duration"] * 60
    return any(
        s <= now < s + span and (until is None or s <= until) for s in _occurrence_starts(spec, now)
    )


def _names(spec: dict[str, Any], key: str) -> set[str]:
    """A scope list as names compare: "Hatena-Bookmark: db-master" is "...:db-master"."""
    return {value.replace(" ", "") for value in spec.get(key, ())}


def covers(spec: dict[str, Any], monitor_id: str, services: set[str], roles: set[str]) -> bool:
    """Whether the downtime's scopes include an alert of this monitor on a host (or
    service) with these services and "service:role" names."""
    if monitor_id in _names(spec, "monitorExcludeScopes"):
        return False
    if services & _names(spec, "serviceExcludeScopes") or roles & _names(spec, "roleExcludeScopes"):
        return False
    scoped = [spec.get(k) for k in ("serviceScopes", "roleScopes", "monitorScopes")]
    if not any(scoped):
        return True
    return bool(
        services & _names(spec, "serviceScopes")
        or roles & _names(spec, "roleScopes")
        or monitor_id in _names(spec, "monitorScopes")
    )
