"""Alerting steps (see `ops.py`): definitions, evaluation state, alerts and their logs,
and the notification delivery queue."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .ops import Query, Step, Upsert, lock_org
from .records import (
    AlertLogRecord,
    AlertRecord,
    Conflict,
    Delivery,
    Document,
    DocumentKind,
    NewDelivery,
    NotFound,
    TargetWrite,
    new_id,
)

_TABLES: dict[str, str] = {
    "monitor": "monitors",
    "channel": "channels",
    "notification_group": "notification_groups",
    "downtime": "downtimes",
    "alert_group_setting": "alert_group_settings",
}
_LABELS = {"monitor": "Monitor", "channel": "Channel", "notification_group": "Notification group",
           "downtime": "Downtime", "alert_group_setting": "Alert group setting"}  # fmt: skip


# definitions ------------------------------------------------------------------------
def list_documents(org_id: str, kind: DocumentKind) -> Step[list[Document]]:
    rows = yield Query(
        f"SELECT id, spec FROM {_TABLES[kind]} WHERE org_id = ? ORDER BY created_at, id", (org_id,)
    )
    return [Document(row[0], json.loads(row[1])) for row in rows]


def get_document(org_id: str, kind: DocumentKind, doc_id: str) -> Step[Document]:
    rows = yield Query(
        f"SELECT id, spec FROM {_TABLES[kind]} WHERE org_id = ? AND id = ?", (org_id, doc_id)
    )
    if not rows:
        raise NotFound(f"{_LABELS[kind]} {doc_id!r} not found.")
    return Document(rows[0][0], json.loads(rows[0][1]))


_GROUP_REFERENCES: dict[DocumentKind, str] = {
    "channel": "childChannelIds",
    "notification_group": "childNotificationGroupIds",
    "monitor": "monitors",
}
"""Kind -> the field of a notification group that names documents of that kind."""


def _keeping(spec: dict[str, Any], field: str, keep: Callable[[str], bool]) -> dict[str, Any]:
    """`spec` (a notification group) with only the ids of `field` that `keep` accepts."""
    if field not in spec:
        return spec
    if field == "monitors":
        return {**spec, field: [m for m in spec[field] if keep(m["id"])]}
    return {**spec, field: [ref for ref in spec[field] if keep(ref)]}


def _known_references(org_id: str, doc: Document) -> Step[None]:
    """Drops from a group being written the channels, groups and monitors the organisation
    no longer has: one deleted after the request checked it would otherwise stay named, as
    the deletion's clean-up (`_forget_in_groups`) ran before this write."""
    for kind, field in _GROUP_REFERENCES.items():
        known = (yield from document_ids(org_id, kind)) | {doc.id}
        doc.spec.update(_keeping(doc.spec, field, known.__contains__))


def _forget_in_groups(org_id: str, kind: DocumentKind, doc_id: str) -> Step[None]:
    """Removes a deleted channel, group or monitor from every group that names it."""
    field = _GROUP_REFERENCES[kind]
    rows = yield Query(
        "SELECT id, spec FROM notification_groups WHERE org_id = ? ORDER BY id", (org_id,)
    )
    for group_id, text in rows:
        spec = json.loads(text)
        kept = _keeping(spec, field, lambda ref: ref != doc_id)
        if kept != spec:
            yield Query(
                "UPDATE notification_groups SET spec = ? WHERE id = ?", (json.dumps(kept), group_id)
            )


def put_document(org_id: str, kind: DocumentKind, doc: Document, now: int) -> Step[None]:
    """Creates or replaces; a group keeps only the references that exist (see
    `_known_references`)."""
    if kind == "notification_group":
        yield from lock_org(org_id)
        yield from _known_references(org_id, doc)
    spec = json.dumps(doc.spec)
    if kind == "monitor":
        yield Query(
            "INSERT INTO monitors (id, org_id, type, name, spec, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "type = excluded.type, name = excluded.name, spec = excluded.spec",
            (doc.id, org_id, doc.spec["type"], doc.spec.get("name", ""), spec, now),
        )
        return
    yield Query(
        f"INSERT INTO {_TABLES[kind]} (id, org_id, spec, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET spec = excluded.spec",
        (doc.id, org_id, spec, now),
    )


def insert_document(
    org_id: str, kind: DocumentKind, doc: Document, now: int, max_count: int
) -> Step[bool]:
    """Creates `doc` unless the organisation holds `max_count` documents of its kind already
    (then False, nothing written). The count and the insert are one transaction, and the
    organisation's row is locked first (PostgreSQL; SQLite has one writer), so of concurrent
    creations only as many pass as there are free places."""
    yield from lock_org(org_id)
    rows = yield Query(f"SELECT count(*) FROM {_TABLES[kind]} WHERE org_id = ?", (org_id,))
    if rows[0][0] >= max_count:
        return False
    yield from put_document(org_id, kind, doc, now)
    return True


def document_ids(org_id: str, kind: DocumentKind) -> Step[set[str]]:
    """The ids of the organisation's documents of `kind`; for monitors, the check monitors'
    ids too (hosts declare those, and notification groups may name them)."""
    sql = f"SELECT id FROM {_TABLES[kind]} WHERE org_id = ?"
    params: tuple[str, ...] = (org_id,)
    if kind == "monitor":
        sql += " UNION SELECT id FROM check_monitors WHERE org_id = ?"
        params += (org_id,)
    rows = yield Query(sql, params)
    return {row[0] for row in rows}


def add_document(org_id: str, kind: DocumentKind, doc: Document, now: int) -> Step[Document]:
    """Inserts unless the id is taken (a concurrent insert of the same id waits for the
    first to commit, then does nothing), then reads back what is stored."""
    if kind == "monitor":
        raise ValueError("add_document: monitors are written with put_document")
    if kind == "notification_group":
        yield from lock_org(org_id)
        yield from _known_references(org_id, doc)
    yield Query(
        f"INSERT INTO {_TABLES[kind]} (id, org_id, spec, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        (doc.id, org_id, json.dumps(doc.spec), now),
    )
    return (yield from get_document(org_id, kind, doc.id))


def delete_document(org_id: str, kind: DocumentKind, doc_id: str) -> Step[Document]:
    """Deletes and returns the document; a channel, group or monitor leaves no group
    naming it, in the same transaction. Raises NotFound."""
    if kind in _GROUP_REFERENCES:
        yield from lock_org(org_id)
    doc = yield from get_document(org_id, kind, doc_id)
    yield Query(f"DELETE FROM {_TABLES[kind]} WHERE org_id = ? AND id = ?", (org_id, doc_id))
    if kind == "monitor":
        yield Query("DELETE FROM alert_states WHERE monitor_id = ?", (doc_id,))
    if kind in _GROUP_REFERENCES:
        yield from _forget_in_groups(org_id, kind, doc_id)
    return doc


# evaluation state and alerts ----------------------------------------------------------
_ALERT_COLUMNS = (
    "id", "org_id", "monitor_id", "target", "type", "host_id", "status", "value", "message",
    "reason", "memo", "flap_count", "opened_at", "closed_at",
)  # fmt: skip
_ALERT_TYPES = (
    "text", "text", "text", "text", "text", "text", "text", "float8", "text",
    "text", "text", "bigint", "bigint", "bigint",
)  # fmt: skip
_ALERT_SELECT = f"SELECT {', '.join(_ALERT_COLUMNS)} FROM alerts"


def _alert(row: Sequence[Any]) -> AlertRecord:
    return AlertRecord(
        id=row[0], monitor_id=row[2], target=row[3], type=row[4], host_id=row[5], status=row[6],
        value=row[7], message=row[8], reason=row[9], memo=row[10], flap_count=row[11],
        opened_at=row[12], closed_at=row[13],
    )  # fmt: skip


def _alert_row(org_id: str, a: AlertRecord) -> tuple[Any, ...]:
    return (
        a.id, org_id, a.monitor_id, a.target, a.type, a.host_id, a.status, a.value, a.message,
        a.reason, a.memo, a.flap_count, a.opened_at, a.closed_at,
    )  # fmt: skip


def _log(row: Sequence[Any]) -> AlertLogRecord:
    detail = json.loads(row[7]) if row[7] else None
    return AlertLogRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], detail)


def target_states(
    org_id: str, target: str | None = None
) -> Step[dict[tuple[str, str], dict[str, Any]]]:
    """Every (monitor, target) state of the org, or only those of one `target` (a host)."""
    sql, params = "SELECT monitor_id, target, state FROM alert_states WHERE org_id = ?", [org_id]
    if target is not None:
        sql, params = sql + " AND target = ?", [*params, target]
    rows = yield Query(sql, params)
    return {(row[0], row[1]): json.loads(row[2]) for row in rows}


def commit_targets(org_id: str, writes: Sequence[TargetWrite], now: int) -> Step[int]:
    """Applies the writes of targets not yet evaluated at their minute; returns how many."""
    rows = yield Query(
        "SELECT monitor_id, target, last_minute FROM alert_states WHERE org_id = ?", (org_id,)
    )
    done = {(row[0], row[1]): row[2] for row in rows}
    fresh = [w for w in writes if done.get((w.monitor_id, w.target), -1) < w.minute]
    if not fresh:
        return 0
    yield Upsert(
        "alert_states",
        ("monitor_id", "target", "org_id", "last_minute", "state"),
        ("text", "text", "text", "bigint", "text"),
        "(monitor_id, target) DO UPDATE SET last_minute = excluded.last_minute, "
        "state = excluded.state",
        sorted({(w.monitor_id, w.target): (w.monitor_id, w.target, org_id, w.minute,
                json.dumps(w.state)) for w in fresh}.values()),
    )  # fmt: skip
    alerts = {a.id: _alert_row(org_id, a) for w in fresh for a in w.alerts}
    yield from _upsert_alerts(list(alerts.values()))
    logs = sorted(
        (log.id, log.alert_id, log.created_at, log.status, log.trigger, log.monitor_id,
         log.target_value, json.dumps(log.status_detail) if log.status_detail else None)
        for w in fresh for log in w.logs
    )  # fmt: skip
    yield from _insert_logs(logs)
    yield from enqueue_deliveries(org_id, [d for w in fresh for d in w.deliveries], now)
    return len(fresh)


def _upsert_alerts(rows: list[tuple[Any, ...]]) -> Step[None]:
    updated = ("status", "value", "message", "reason", "flap_count", "closed_at")
    yield Upsert(
        "alerts",
        _ALERT_COLUMNS,
        _ALERT_TYPES,
        "(id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updated),
        sorted(rows),
    )


def _insert_logs(rows: list[tuple[Any, ...]]) -> Step[None]:
    yield Upsert(
        "alert_logs",
        ("id", "alert_id", "created_at", "status", "log_trigger", "monitor_id", "target_value",
         "status_detail"),
        ("text", "text", "bigint", "text", "text", "text", "float8", "text"),
        "(id) DO NOTHING",
        rows,
    )  # fmt: skip


def open_alerts(org_id: str) -> Step[list[AlertRecord]]:
    rows = yield Query(f"{_ALERT_SELECT} WHERE org_id = ? AND closed_at IS NULL", (org_id,))
    return [_alert(row) for row in rows]


def _page_start(table: str, next_id: str | None) -> Step[int | None]:
    if next_id is None:
        return None
    rows = yield Query(f"SELECT seq FROM {table} WHERE id = ?", (next_id,))
    if not rows:
        raise Conflict(f"nextId: unknown id {next_id!r}")
    return int(rows[0][0])


def list_alerts(
    org_id: str, with_closed: bool, next_id: str | None, limit: int
) -> Step[tuple[list[AlertRecord], str | None]]:
    """Newest first; the id after the page when there is more."""
    start = yield from _page_start("alerts", next_id)
    sql = f"{_ALERT_SELECT} WHERE org_id = ?"
    params: list[Any] = [org_id]
    if not with_closed:
        sql += " AND closed_at IS NULL"
    if start is not None:
        sql, params = sql + " AND seq <= ?", [*params, start]
    rows = yield Query(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit + 1))
    alerts = [_alert(row) for row in rows]
    return alerts[:limit], (alerts[limit].id if len(alerts) > limit else None)


def get_alert(org_id: str, alert_id: str) -> Step[AlertRecord]:
    rows = yield Query(f"{_ALERT_SELECT} WHERE org_id = ? AND id = ?", (org_id, alert_id))
    if not rows:
        raise NotFound(f"Alert {alert_id!r} not found.")
    return _alert(rows[0])


def set_alert_memo(org_id: str, alert_id: str, memo: str) -> Step[None]:
    changed = yield Query(
        "UPDATE alerts SET memo = ? WHERE org_id = ? AND id = ?",
        (memo, org_id, alert_id),
        count=True,
    )
    if not changed:
        raise NotFound(f"Alert {alert_id!r} not found.")


def close_alerts(
    org_id: str,
    alerts: Sequence[AlertRecord],
    reason: str,
    trigger: str,
    now: int,
    deliveries: Sequence[NewDelivery] = (),
) -> Step[list[AlertRecord]]:
    """Closes open alerts (status OK, `reason`, `closedAt`), each with a log entry, and
    queues the `deliveries` announcing it in the same transaction."""
    closed = []
    for alert in alerts:
        if alert.closed_at is not None:
            continue
        alert.status, alert.reason, alert.closed_at = "OK", reason, now
        closed.append(alert)
    yield from enqueue_deliveries(org_id, deliveries, now)
    yield from _upsert_alerts([_alert_row(org_id, a) for a in closed])
    yield from _insert_logs(
        sorted((new_id(), a.id, now, "OK", trigger, a.monitor_id, None, None) for a in closed)
    )
    return closed


def alert_logs(
    org_id: str, alert_id: str, next_id: str | None, limit: int
) -> Step[tuple[list[AlertLogRecord], str | None]]:
    """Newest first, like the alerts."""
    yield from get_alert(org_id, alert_id)
    start = yield from _page_start("alert_logs", next_id)
    sql = (
        "SELECT id, alert_id, created_at, status, log_trigger, monitor_id, target_value, "
        "status_detail FROM alert_logs WHERE alert_id = ?"
    )
    params: list[Any] = [alert_id]
    if start is not None:
        sql, params = sql + " AND seq <= ?", [*params, start]
    rows = yield Query(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit + 1))
    logs = [_log(row) for row in rows]
    return logs[:limit], (logs[limit].id if len(logs) > limit else None)


# notification deliveries ------------------------------------------------------------
_DELIVERY_SELECT = (
    "SELECT id, org_id, channel_id, event_key, payload, state, attempts, next_attempt_at, "
    "last_error, created_at, sent_at FROM deliveries"
)


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7], row[8],
        row[9], row[10],
    )  # fmt: skip


def enqueue_deliveries(org_id: str, items: Sequence[NewDelivery], now: int) -> Step[None]:
    rows = {
        (d.channel_id, d.event_key): (new_id(), org_id, d.channel_id, d.event_key,
                                      json.dumps(d.payload), "pending", 0, now, now)
        for d in items
    }  # fmt: skip
    yield Upsert(
        "deliveries",
        ("id", "org_id", "channel_id", "event_key", "payload", "state", "attempts",
         "next_attempt_at", "created_at"),
        ("text", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint"),
        "(channel_id, event_key) DO NOTHING",
        [rows[key] for key in sorted(rows)],
    )  # fmt: skip


_CLAIMABLE = "state IN ('pending', 'sending') AND next_attempt_at <= ?"


def claim_deliveries(now: int, lease: int, limit: int, skip_locked: bool) -> Step[list[Delivery]]:
    """Moves up to `limit` due deliveries to `sending` until `now + lease` and returns them.

    A `sending` row whose lease ran out (its sender crashed) is due again. The claim is one
    UPDATE whose WHERE is checked again on the row it locks, so of two concurrent senders
    only one gets a delivery; on PostgreSQL (`skip_locked`) the second skips rows another
    transaction holds instead of waiting for it.
    """
    # Chosen once in a materialised CTE: as a plain IN subquery, PostgreSQL may rescan the
    # LIMIT per outer row and claim more than `limit`.
    lock = " FOR UPDATE SKIP LOCKED" if skip_locked else ""
    rows = yield Query(
        f"WITH chosen AS MATERIALIZED (SELECT id FROM deliveries WHERE {_CLAIMABLE} "
        f"ORDER BY next_attempt_at, seq LIMIT ?{lock}) "
        "UPDATE deliveries SET state = 'sending', next_attempt_at = ? "
        f"WHERE {_CLAIMABLE} AND id IN (SELECT id FROM chosen) "
        "RETURNING id, org_id, channel_id, event_key, payload, state, attempts, "
        "next_attempt_at, last_error, created_at, sent_at",
        (now, limit, now + lease, now),
    )
    return sorted((_delivery(row) for row in rows), key=lambda d: d.created_at)


def finish_delivery(
    delivery_id: str, state: str, attempts: int, next_attempt_at: int, error: str | None, now: int
) -> Step[None]:
    yield Query(
        "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
        "sent_at = ? WHERE id = ? AND state = 'sending'",
        (state, attempts, next_attempt_at, error, now if state == "sent" else None, delivery_id),
    )


def pending_deliveries() -> Step[int]:
    rows = yield Query("SELECT count(*) FROM deliveries WHERE state IN ('pending', 'sending')")
    return int(rows[0][0])


def list_deliveries(org_id: str, channel_id: str | None, limit: int) -> Step[list[Delivery]]:
    sql = f"{_DELIVERY_SELECT} WHERE org_id = ?"
    params: list[Any] = [org_id]
    if channel_id is not None:
        sql, params = sql + " AND channel_id = ?", [*params, channel_id]
    rows = yield Query(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit))
    return [_delivery(row) for row in rows]
