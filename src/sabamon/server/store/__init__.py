"""The server's store: one class of verbs (`store.Store`) over a SQLite or a PostgreSQL
backend (`backend.Backend`), its records (`records.py`), and the series store it carries
(`series_store.SeriesStore`).

`open_store` picks the backend from the URL scheme and imports it lazily, so a SQLite
deployment never imports psycopg; `open_series_store` picks where the series live.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .records import (
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
    StoreError,
    WriteResult,
    new_id,
)
from .series import DEFAULT_MAX_SERIES
from .series_store import SeriesStore
from .store import DEFAULT_RETENTION, Store

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
    "open_series_store",
    "open_store",
]

_BACKENDS = {
    "postgresql": "sabamon.server.store.postgres:PostgresBackend",
    "postgres": "sabamon.server.store.postgres:PostgresBackend",
}


def _backend(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def open_series_store(
    series_store: str | None, db_url: str | None, clock: Callable[[], float] = time.time
) -> SeriesStore | None:
    """The series store named by `--series-store`: None for the tables beside the metadata
    (no value, `sqlite` with SQLite metadata, `postgresql` with PostgreSQL metadata), or a
    VictoriaMetrics one for its URL(s) (`victoria.endpoints.parse_series_store`).

    Raises ValueError naming the value and the forms expected.
    """
    if not series_store:
        return None
    metadata = "postgresql" if db_url else "sqlite"
    if series_store in ("sqlite", "postgresql", "postgres"):
        if series_store.startswith("postgres") != (metadata == "postgresql"):
            raise ValueError(
                f"series store {series_store!r}: series in the database live beside the "
                f"metadata, which is {metadata} here (give --series-store {metadata}, or a "
                "VictoriaMetrics URL)"
            )
        return None
    from sabamon.server.victoria.endpoints import parse_series_store
    from sabamon.server.victoria.store import VictoriaSeriesStore

    return VictoriaSeriesStore(parse_series_store(series_store), clock=clock)


def open_store(
    db_url: str | None,
    data_dir: Path,
    retention: Retention = DEFAULT_RETENTION,
    series_store: SeriesStore | None = None,
    max_series_per_org: int = DEFAULT_MAX_SERIES,
) -> Store:
    """The store for `db_url` (no URL: SQLite at `data_dir/sabamon.db`), not yet opened,
    with its series in `series_store` (None: beside the metadata, at most
    `max_series_per_org` series per organisation).

    Raises ValueError naming the scheme if it is not one of the supported ones.
    """
    if not db_url:
        backend = _backend("sabamon.server.store.sqlite:SQLiteBackend")(
            Path(data_dir) / "sabamon.db"
        )
    else:
        scheme = urlsplit(db_url).scheme
        if scheme not in _BACKENDS:
            raise ValueError(
                f"database URL {db_url.split('@')[-1]!r}: unsupported scheme {scheme!r} "
                f"(expected one of {', '.join(sorted(_BACKENDS))}, or no URL for SQLite)"
            )
        backend = _backend(_BACKENDS[scheme])(db_url)
    return Store(
        backend, retention, series_store=series_store, max_series_per_org=max_series_per_org
    )
