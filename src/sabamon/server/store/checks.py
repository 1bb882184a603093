"""Check monitoring steps: reports, the latest state per check, implicit check monitors.

A check monitor exists per (host, check name), created by the host's `checks` list or by
the first report for that name (as `mkr wrap` posts without registering), and keeps its id.
`check_reports` remembers (host, name, occurredAt) of recent reports to ignore re-posts.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ops import Query, Step
from .records import CheckReport, CheckState, new_id

REPORT_MAX_AGE = 6 * 3600
"""Reports this old or older (relative to the post) are ignored."""


def write_check_reports(org_id: str, reports: Sequence[CheckReport], now: int) -> Step[int]:
    stored = 0
    for report in reports:
        if now - report.occurred_at >= REPORT_MAX_AGE:
            continue
        fresh = yield Query(
            "INSERT INTO check_reports (host_id, name, occurred_at) VALUES (?, ?, ?) "
            "ON CONFLICT (host_id, name, occurred_at) DO NOTHING",
            (report.host_id, report.name, report.occurred_at),
            count=True,
        )
        if not fresh:
            continue
        yield Query(
            "INSERT INTO check_monitors (id, org_id, host_id, name) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (host_id, name) DO NOTHING",
            (new_id(), org_id, report.host_id, report.name),
        )
        yield Query(
            "UPDATE check_monitors SET status = ?, message = ?, occurred_at = ?, "
            "notification_interval = ?, max_check_attempts = ?, reported_at = ? "
            "WHERE host_id = ? AND name = ? AND (occurred_at IS NULL OR occurred_at <= ?)",
            (report.status, report.message, report.occurred_at, report.notification_interval,
             report.max_check_attempts, now, report.host_id, report.name, report.occurred_at),
        )  # fmt: skip
        stored += 1
    return stored


def check_states(
    org_id: str, host_id: str | None, reported_since: int | None = None
) -> Step[list[CheckState]]:
    """The latest report of every check that has one, by host then name; with
    `reported_since`, only the checks whose latest report the server received since then."""
    where = "org_id = ? AND status IS NOT NULL"
    params: list[object] = [org_id]
    if host_id is not None:
        where += " AND host_id = ?"
        params.append(host_id)
    if reported_since is not None:
        where += " AND reported_at >= ?"
        params.append(reported_since)
    rows = yield Query(
        "SELECT id, host_id, name, status, message, memo, occurred_at, notification_interval, "
        f"max_check_attempts FROM check_monitors WHERE {where} ORDER BY host_id, name",
        params,
    )
    return [CheckState(*row) for row in rows]


def list_check_monitors(
    org_id: str, after_id: str | None, limit: int
) -> Step[list[tuple[str, str]]]:
    rows = yield Query(
        "SELECT id, name FROM check_monitors WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?",
        (org_id, after_id or "", limit),
    )
    return [(monitor_id, name) for monitor_id, name in rows]


def expire_check_reports(now: int) -> Step[int]:
    """Forgets reports older than the window in which a re-post could still be stored."""
    cutoff = now - REPORT_MAX_AGE - 3600
    deleted: int = yield Query(
        "DELETE FROM check_reports WHERE occurred_at < ?", (cutoff,), count=True
    )
    return deleted
