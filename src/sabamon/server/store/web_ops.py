"""Store steps for dashboard users, sessions and shared graph images, run by either backend
(see `ops.py`)."""

from __future__ import annotations

from .ops import Query, Step
from .records import Conflict, NotFound, User, WebSession

_USER_COLUMNS = "name, org_id, password_hash, created_at, time_zone"


def create_user(org_id: str, name: str, password_hash: str, now: int) -> Step[User]:
    inserted = yield Query(
        "INSERT INTO web_users (name, org_id, password_hash, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO NOTHING",
        (name, org_id, password_hash, now),
        count=True,
    )
    if not inserted:
        raise Conflict(f"the user {name!r} already exists")
    return User(name, org_id, password_hash, now)


def get_user(name: str) -> Step[User | None]:
    rows = yield Query(f"SELECT {_USER_COLUMNS} FROM web_users WHERE name = ?", (name,))
    return User(*rows[0]) if rows else None


def list_users(org_id: str) -> Step[list[User]]:
    rows = yield Query(
        f"SELECT {_USER_COLUMNS} FROM web_users WHERE org_id = ? ORDER BY name", (org_id,)
    )
    return [User(*row) for row in rows]


def set_user_password(name: str, password_hash: str) -> Step[None]:
    """Also signs the user out everywhere."""
    updated = yield Query(
        "UPDATE web_users SET password_hash = ? WHERE name = ?", (password_hash, name), count=True
    )
    if not updated:
        raise NotFound(f"no user named {name!r}")
    yield Query("DELETE FROM web_sessions WHERE user_name = ?", (name,))


def set_user_time_zone(name: str, time_zone: str | None) -> Step[None]:
    updated = yield Query(
        "UPDATE web_users SET time_zone = ? WHERE name = ?", (time_zone, name), count=True
    )
    if not updated:
        raise NotFound(f"no user named {name!r}")


def create_session(session: WebSession) -> Step[None]:
    yield Query(
        "INSERT INTO web_sessions (token_digest, user_name, created_at, expires_at) "
        "VALUES (?, ?, ?, ?)",
        (session.token_digest, session.user_name, session.created_at, session.expires_at),
    )


def session_user(token_digest: str, now: int) -> Step[User | None]:
    rows = yield Query(
        "SELECT u.name, u.org_id, u.password_hash, u.created_at, u.time_zone FROM web_sessions s "
        "JOIN web_users u ON u.name = s.user_name WHERE s.token_digest = ? AND s.expires_at > ?",
        (token_digest, now),
    )
    return User(*rows[0]) if rows else None


def delete_session(token_digest: str, now: int) -> Step[None]:
    """Deletes this session and any that have expired."""
    yield Query(
        "DELETE FROM web_sessions WHERE token_digest = ? OR expires_at <= ?", (token_digest, now)
    )


def put_graph_image(
    org_id: str, token_digest: str, png: bytes, expires_at: int, now: int
) -> Step[None]:
    """Stores the image and deletes the expired ones."""
    yield Query("DELETE FROM graph_images WHERE expires_at <= ?", (now,))
    yield Query(
        "INSERT INTO graph_images (token_digest, org_id, png, expires_at) VALUES (?, ?, ?, ?)",
        (token_digest, org_id, png, expires_at),
    )


def graph_image(token_digest: str, now: int) -> Step[tuple[bytes, int] | None]:
    rows = yield Query(
        "SELECT png, expires_at FROM graph_images WHERE token_digest = ? AND expires_at > ?",
        (token_digest, now),
    )
    return (bytes(rows[0][0]), int(rows[0][1])) if rows else None
