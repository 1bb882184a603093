"""Host steps: registration, updates, filters, status, retirement and role membership."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .ops import Query, Step, Upsert
from .records import Host, HostFilter, HostInput, HostStatus, NotFound, StoreError, new_id

_COLUMNS = (
    "id, org_id, name, display_name, custom_identifier, size, status, memo, meta, "
    "interfaces, checks, is_retired, retired_at, created_at"
)


def parse_role_fullname(fullname: str) -> tuple[str, str]:
    """("service", "role") from "service:role" (spaces around either part are trimmed)."""
    service, sep, role = fullname.partition(":")
    if not sep or not service.strip() or not role.strip():
        raise StoreError(f"role fullname {fullname!r}: expected 'service:role'")
    return service.strip(), role.strip()


def _host(row: Sequence[Any], roles: dict[str, list[str]]) -> Host:
    return Host(
        id=row[0],
        org_id=row[1],
        name=row[2],
        display_name=row[3],
        custom_identifier=row[4],
        size=row[5],
        status=row[6],
        memo=row[7],
        meta=json.loads(row[8]),
        interfaces=json.loads(row[9]),
        checks=json.loads(row[10]),
        roles=roles,
        is_retired=bool(row[11]),
        retired_at=row[12],
        created_at=row[13],
    )


def ensure_roles(org_id: str, pairs: Iterable[tuple[str, str]]) -> Step[None]:
    """Creates any service or role in `pairs` that does not exist yet (empty memo)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    yield Upsert(
        "services",
        ("org_id", "name", "memo"),
        ("text", "text", "text"),
        "(org_id, name) DO NOTHING",
        sorted({(org_id, service, "") for service, _ in pairs}),
    )
    yield Upsert(
        "roles",
        ("org_id", "service", "name", "memo"),
        ("text", "text", "text", "text"),
        "(org_id, service, name) DO NOTHING",
        [(org_id, service, role, "") for service, role in pairs],
    )


def _add_roles(org_id: str, host_id: str, fullnames: Iterable[str]) -> Step[None]:
    pairs = sorted({parse_role_fullname(f) for f in fullnames})
    if not pairs:
        return
    yield from ensure_roles(org_id, pairs)
    yield Upsert(
        "host_roles",
        ("host_id", "org_id", "service", "role"),
        ("text", "text", "text", "text"),
        "(host_id, service, role) DO NOTHING",
        [(host_id, org_id, service, role) for service, role in pairs],
    )


def _sync_check_monitors(org_id: str, host_id: str, checks: list[dict[str, Any]]) -> Step[None]:
    """One check monitor per (host, check name); an existing one keeps its id."""
    by_name = {str(c["name"]): str(c.get("memo") or "") for c in checks}
    if by_name:
        yield Upsert(
            "check_monitors",
            ("id", "org_id", "host_id", "name", "memo"),
            ("text", "text", "text", "text", "text"),
            "(host_id, name) DO UPDATE SET memo = excluded.memo",
            [(new_id(), org_id, host_id, name, memo) for name, memo in sorted(by_name.items())],
        )


def create_host(org_id: str, host: HostInput, now: int) -> Step[str]:
    host_id = new_id()
    yield Query(
        f"INSERT INTO hosts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?)",
        (host_id, org_id, host.name, host.display_name, host.custom_identifier or None,
         "standard", "working", host.memo, json.dumps(host.meta), json.dumps(host.interfaces),
         json.dumps(host.checks), now),
    )  # fmt: skip
    yield from _add_roles(org_id, host_id, host.role_fullnames)
    yield from _sync_check_monitors(org_id, host_id, host.checks)
    return host_id


def update_host(org_id: str, host_id: str, host: HostInput) -> Step[None]:
    changed = yield Query(
        "UPDATE hosts SET name = ?, display_name = ?, custom_identifier = ?, memo = ?, "
        "meta = ?, interfaces = ?, checks = ? WHERE org_id = ? AND id = ?",
        (host.name, host.display_name, host.custom_identifier or None, host.memo,
         json.dumps(host.meta), json.dumps(host.interfaces), json.dumps(host.checks),
         org_id, host_id),
        count=True,
    )  # fmt: skip
    if not changed:
        raise NotFound(f"host {host_id} not found")
    yield from _add_roles(org_id, host_id, host.role_fullnames)
    yield from _sync_check_monitors(org_id, host_id, host.checks)


def _roles_of(org_id: str, host_ids: Sequence[str] | None) -> Step[dict[str, dict[str, list[str]]]]:
    """host id -> service -> sorted role names (for the given hosts, or all of the org)."""
    if host_ids is None:
        rows = yield Query(
            "SELECT host_id, service, role FROM host_roles WHERE org_id = ?", (org_id,)
        )
    else:
        rows = []
        for host_id in host_ids:
            rows += yield Query(
                "SELECT host_id, service, role FROM host_roles WHERE host_id = ?", (host_id,)
            )
    roles: dict[str, dict[str, list[str]]] = {}
    for host_id, service, role in sorted(rows):
        roles.setdefault(host_id, {}).setdefault(service, []).append(role)
    return roles


def get_host(org_id: str, host_id: str) -> Step[Host]:
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM hosts WHERE org_id = ? AND id = ?", (org_id, host_id)
    )
    if not rows:
        raise NotFound(f"host {host_id} not found")
    roles = yield from _roles_of(org_id, [host_id])
    return _host(rows[0], roles.get(host_id, {}))


def list_hosts(org_id: str, flt: HostFilter) -> Step[list[Host]]:
    where = ["org_id = ?", "is_retired = 0"]
    params: list[Any] = [org_id]
    if flt.statuses:
        where.append(f"status IN ({', '.join('?' for _ in flt.statuses)})")
        params += flt.statuses
    if flt.name is not None:
        where.append("name = ?")
        params.append(flt.name)
    if flt.custom_identifier is not None:
        where.append("custom_identifier = ?")
        params.append(flt.custom_identifier)
    if flt.service is not None:
        member = "SELECT 1 FROM host_roles r WHERE r.host_id = hosts.id AND r.service = ?"
        params.append(flt.service)
        if flt.roles:
            member += f" AND r.role IN ({', '.join('?' for _ in flt.roles)})"
            params += flt.roles
        where.append(f"EXISTS ({member})")
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM hosts WHERE {' AND '.join(where)} ORDER BY created_at, seq",
        params,
    )
    roles = yield from _roles_of(org_id, None if len(rows) > 20 else [r[0] for r in rows])
    return [_host(row, roles.get(row[0], {})) for row in rows]


def find_by_custom_identifier(
    org_id: str, custom_identifier: str, case_insensitive: bool
) -> Step[Host]:
    match = "lower(custom_identifier) = lower(?)" if case_insensitive else "custom_identifier = ?"
    rows = yield Query(
        f"SELECT {_COLUMNS} FROM hosts WHERE org_id = ? AND is_retired = 0 AND {match} "
        "ORDER BY created_at, seq LIMIT 1",
        (org_id, custom_identifier),
    )
    if not rows:
        raise NotFound(f"host with customIdentifier {custom_identifier!r} not found")
    roles = yield from _roles_of(org_id, [rows[0][0]])
    return _host(rows[0], roles.get(rows[0][0], {}))


def _require_hosts(org_id: str, host_ids: Sequence[str]) -> Step[None]:
    """Raises NotFound naming the first id that is unknown or retired."""
    for host_id in host_ids:
        rows = yield Query(
            "SELECT 1 FROM hosts WHERE org_id = ? AND id = ? AND is_retired = 0", (org_id, host_id)
        )
        if not rows:
            raise NotFound(f"host {host_id} not found")


def set_host_status(org_id: str, host_ids: Sequence[str], status: HostStatus) -> Step[None]:
    yield from _require_hosts(org_id, host_ids)
    for host_id in host_ids:
        yield Query("UPDATE hosts SET status = ? WHERE id = ?", (status, host_id))


def retire_hosts(org_id: str, host_ids: Sequence[str], now: int) -> Step[None]:
    yield from _require_hosts(org_id, host_ids)
    for host_id in host_ids:
        yield Query("UPDATE hosts SET is_retired = 1, retired_at = ? WHERE id = ?", (now, host_id))


def set_role_fullnames(org_id: str, host_id: str, fullnames: Sequence[str]) -> Step[None]:
    """Replaces the host's roles with `fullnames`."""
    for fullname in fullnames:
        parse_role_fullname(fullname)
    yield from _require_hosts(org_id, [host_id])
    yield Query("DELETE FROM host_roles WHERE host_id = ?", (host_id,))
    yield from _add_roles(org_id, host_id, fullnames)
