"""Threshold classification with optional hysteresis (recovery thresholds)."""

from __future__ import annotations

from typing import Literal

Status = Literal["OK", "WARNING", "CRITICAL", "UNKNOWN"]

# Higher is worse; an escalation is a move to a higher rank.
STATUS_RANK: dict[str, int] = {"OK": 0, "UNKNOWN": 1, "WARNING": 2, "CRITICAL": 3}


def crosses(value: float, operator: str, limit: float | None) -> bool:
    """Whether `value` is on the alerting side of `limit` ("> limit" or "< limit")."""
    if limit is None:
        return False
    return value > limit if operator == ">" else value < limit


def classify(
    value: float,
    operator: str,
    warning: float | None,
    critical: float | None,
    *,
    previous: str = "OK",
    recovery_warning: float | None = None,
    recovery_critical: float | None = None,
) -> Status:
    """The status of `value`; with a recovery threshold, a level is left only once the
    value is past that threshold (so a series hovering around the limit does not toggle).
    """
    if crosses(value, operator, critical):
        return "CRITICAL"
    if previous == "CRITICAL" and crosses(value, operator, recovery_critical):
        return "CRITICAL"
    if crosses(value, operator, warning):
        return "WARNING"
    if previous in ("WARNING", "CRITICAL") and crosses(value, operator, recovery_warning):
        return "WARNING"
    return "OK"
