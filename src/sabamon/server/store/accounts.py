"""Organisation and API key steps."""

from __future__ import annotations

from .ops import Query, Step
from .records import ApiKey, Org, new_api_key, new_id

_KEY_COLUMNS = "key, org_id, name, can_write, created_at"


def _api_key(row: tuple[str, str, str, int, int]) -> ApiKey:
    return ApiKey(key=row[0], org_id=row[1], name=row[2], write=bool(row[3]), created_at=row[4])


def ensure_org(name: str, now: int) -> Step[tuple[Org, bool]]:
    rows = yield Query("SELECT id, name FROM orgs ORDER BY seq LIMIT 1")
    if rows:
        return Org(rows[0][0], rows[0][1]), False
    org = Org(new_id(), name)
    yield Query("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)", (org.id, org.name, now))
    return org, True


def create_api_key(org_id: str, name: str, write: bool, key: str | None, now: int) -> Step[ApiKey]:
    api_key = ApiKey(key or new_api_key(), org_id, name, write, now)
    yield Query(
        f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
        (api_key.key, org_id, name, int(write), now),
    )
    return api_key


def get_api_key(key: str) -> Step[ApiKey | None]:
    rows = yield Query(
        f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key = ? AND revoked_at IS NULL", (key,)
    )
    return _api_key(rows[0]) if rows else None


def list_api_keys(org_id: str) -> Step[list[ApiKey]]:
    rows = yield Query(
        f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE org_id = ? AND revoked_at IS NULL "
        "ORDER BY created_at, key",
        (org_id,),
    )
    return [_api_key(row) for row in rows]


def revoke_api_key(key: str, now: int) -> Step[bool]:
    changed = yield Query(
        "UPDATE api_keys SET revoked_at = ? WHERE key = ? AND revoked_at IS NULL",
        (now, key),
        count=True,
    )
    return bool(changed)
