"""Dashboard accounts: the first `admin` (`sabamon user add|passwd` lives in `server/cli.py`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from sabamon.server.store import Store
from sabamon.server.store.records import Conflict

from . import auth

log = logging.getLogger(__name__)
ADMIN = "admin"


async def ensure_admin(store: Store, org_id: str, password: str | None = None) -> str | None:
    """Creates `admin` when the organisation has no user yet.

    The password is `password` (SABAMON_BOOTSTRAP_PASSWORD) or a random one, which is
    returned so the caller prints it once; None when nothing was created or it was given.
    """
    if await store.list_users(org_id):
        return None
    chosen = password or secrets.token_urlsafe(12)
    hashed = await asyncio.to_thread(auth.hash_password, chosen)
    try:
        await store.create_user(org_id, ADMIN, hashed, int(time.time()))
    except Conflict:
        return None
    log.info("event=user_created user=%s", ADMIN)
    return None if password else chosen
