"""The server's store: one interface (`base.Store`), a SQLite and a PostgreSQL backend.

`open_store` picks the backend from the URL scheme and imports it lazily, so a SQLite
deployment never imports psycopg.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .base import (
    ApiKey,
    CheckReport,
    CheckState,
    Conflict,
    GraphDef,
    Host,
    HostFilter,
    HostInput,
    Metadata,
    NotFound,
    Org,
    Point,
    Retention,
    Role,
    Service,
    Store,
    StoreError,
    WriteResult,
    new_id,
)
from .sql_store import DEFAULT_RETENTION

__all__ = [
    "ApiKey",
    "CheckReport",
    "CheckState",
    "Conflict",
    "GraphDef",
    "Host",
    "HostFilter",
    "HostInput",
    "Metadata",
    "NotFound",
    "Org",
    "Point",
    "Retention",
    "Role",
    "Service",
    "Store",
    "StoreError",
    "WriteResult",
    "new_id",
    "open_store",
]

_BACKENDS = {
    "postgresql": "sabamon.server.store.postgres:PostgresStore",
    "postgres": "sabamon.server.store.postgres:PostgresStore",
}


def _backend(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def open_store(
    db_url: str | None, data_dir: Path, retention: Retention = DEFAULT_RETENTION
) -> Store:
    """The store for `db_url` (no URL: SQLite at `data_dir/sabamon.db`), not yet opened.

    Raises ValueError naming the scheme if it is not one of the supported ones.
    """
    if not db_url:
        sqlite_store = _backend("sabamon.server.store.sqlite:SQLiteStore")
        return sqlite_store(Path(data_dir) / "sabamon.db", retention)
    scheme = urlsplit(db_url).scheme
    if scheme not in _BACKENDS:
        raise ValueError(
            f"database URL {db_url.split('@')[-1]!r}: unsupported scheme {scheme!r} "
            f"(expected one of {', '.join(sorted(_BACKENDS))}, or no URL for SQLite)"
        )
    return _backend(_BACKENDS[scheme])(db_url, retention)
