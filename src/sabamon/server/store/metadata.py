"""Metadata steps: one JSON document per (owner, namespace), with its update time."""

from __future__ import annotations

import json
from typing import Any

from .ops import Query, Step, lock_org
from .records import Metadata, MetadataOwner, NotFound

_OWNER = "org_id = ? AND owner_kind = ? AND owner_key = ?"


def get_metadata(org_id: str, owner: MetadataOwner, namespace: str) -> Step[Metadata]:
    rows = yield Query(
        f"SELECT value, updated_at FROM metadata WHERE {_OWNER} AND namespace = ?",
        (org_id, *owner, namespace),
    )
    if not rows:
        raise NotFound(f"metadata {namespace!r} of {owner[0]} {owner[1]!r} not found")
    return Metadata(json.loads(rows[0][0]), rows[0][1])


def put_metadata(
    org_id: str,
    owner: MetadataOwner,
    namespace: str,
    value: Any,
    now: int,
    max_namespaces: int | None = None,
) -> Step[bool]:
    """Creates or replaces the document; False (nothing written) when `namespace` is new
    and the owner holds `max_namespaces` already, counted in the write's transaction with
    the organisation's row locked (concurrent puts never pass the bound together)."""
    if max_namespaces is not None:
        yield from lock_org(org_id)
        names = yield from list_metadata(org_id, owner)
        if namespace not in names and len(names) >= max_namespaces:
            return False
    yield Query(
        "INSERT INTO metadata (org_id, owner_kind, owner_key, namespace, value, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, owner_kind, owner_key, namespace) "
        "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (org_id, *owner, namespace, json.dumps(value), now),
    )
    return True


def delete_metadata(org_id: str, owner: MetadataOwner, namespace: str) -> Step[None]:
    deleted = yield Query(
        f"DELETE FROM metadata WHERE {_OWNER} AND namespace = ?",
        (org_id, *owner, namespace),
        count=True,
    )
    if not deleted:
        raise NotFound(f"metadata {namespace!r} of {owner[0]} {owner[1]!r} not found")


def list_metadata(org_id: str, owner: MetadataOwner) -> Step[list[str]]:
    rows = yield Query(
        f"SELECT namespace FROM metadata WHERE {_OWNER} ORDER BY namespace", (org_id, *owner)
    )
    return [row[0] for row in rows]
