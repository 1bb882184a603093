"""Service and role steps, with their cascades."""

from __future__ import annotations

from .ops import Query, Step
from .records import Conflict, NotFound, Role, Service


def _service_roles(org_id: str) -> Step[dict[str, list[str]]]:
    rows = yield Query(
        "SELECT service, name FROM roles WHERE org_id = ? ORDER BY service, name", (org_id,)
    )
    roles: dict[str, list[str]] = {}
    for service, name in rows:
        roles.setdefault(service, []).append(name)
    return roles


def list_services(org_id: str) -> Step[list[Service]]:
    rows = yield Query("SELECT name, memo FROM services WHERE org_id = ? ORDER BY name", (org_id,))
    roles = yield from _service_roles(org_id)
    return [Service(name, memo, roles.get(name, [])) for name, memo in rows]


def get_service(org_id: str, name: str) -> Step[Service]:
    rows = yield Query("SELECT memo FROM services WHERE org_id = ? AND name = ?", (org_id, name))
    if not rows:
        raise NotFound(f"service {name!r} not found")
    roles = yield Query(
        "SELECT name FROM roles WHERE org_id = ? AND service = ? ORDER BY name", (org_id, name)
    )
    return Service(name, rows[0][0], [r[0] for r in roles])


def create_service(org_id: str, name: str, memo: str) -> Step[Service]:
    inserted = yield Query(
        "INSERT INTO services (org_id, name, memo) VALUES (?, ?, ?) "
        "ON CONFLICT (org_id, name) DO NOTHING",
        (org_id, name, memo),
        count=True,
    )
    if not inserted:
        raise Conflict(f"service {name!r} already exists")
    return Service(name, memo, [])


def delete_service(org_id: str, name: str) -> Step[Service]:
    """Deletes the service, its roles and memberships and metadata (its series are the
    series store's)."""
    service = yield from get_service(org_id, name)
    yield Query("DELETE FROM host_roles WHERE org_id = ? AND service = ?", (org_id, name))
    yield Query("DELETE FROM roles WHERE org_id = ? AND service = ?", (org_id, name))
    yield Query(
        "DELETE FROM metadata WHERE org_id = ? AND ((owner_kind = 'service' AND owner_key = ?) "
        "OR (owner_kind = 'role' AND substr(owner_key, 1, ?) = ?))",
        (org_id, name, len(name) + 1, name + ":"),
    )
    yield Query("DELETE FROM services WHERE org_id = ? AND name = ?", (org_id, name))
    return service


def list_roles(org_id: str, service: str) -> Step[list[Role]]:
    yield from get_service(org_id, service)
    rows = yield Query(
        "SELECT name, memo FROM roles WHERE org_id = ? AND service = ? ORDER BY name",
        (org_id, service),
    )
    return [Role(service, name, memo) for name, memo in rows]


def create_role(org_id: str, service: str, name: str, memo: str) -> Step[Role]:
    yield from get_service(org_id, service)
    inserted = yield Query(
        "INSERT INTO roles (org_id, service, name, memo) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (org_id, service, name) DO NOTHING",
        (org_id, service, name, memo),
        count=True,
    )
    if not inserted:
        raise Conflict(f"role {service}:{name} already exists")
    return Role(service, name, memo)


def delete_role(org_id: str, service: str, name: str) -> Step[Role]:
    rows = yield Query(
        "DELETE FROM roles WHERE org_id = ? AND service = ? AND name = ? RETURNING memo",
        (org_id, service, name),
    )
    if not rows:
        raise NotFound(f"role {service}:{name} not found")
    yield Query(
        "DELETE FROM host_roles WHERE org_id = ? AND service = ? AND role = ?",
        (org_id, service, name),
    )
    yield Query(
        "DELETE FROM metadata WHERE org_id = ? AND owner_kind = 'role' AND owner_key = ?",
        (org_id, f"{service}:{name}"),
    )
    return Role(service, name, rows[0][0])
