"""Records of the dashboard's own data: users and their sign-in sessions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    name: str
    org_id: str
    password_hash: str
    created_at: int
    time_zone: str | None = None
    """The zoneinfo name the user chose for every time on the dashboard; None: the
    browser's own zone."""


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser; the store keys it by the SHA-256 of the cookie's token."""

    token_digest: str
    user_name: str
    created_at: int
    expires_at: int
