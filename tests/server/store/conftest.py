"""The store fixture, parametrised over both backends (one suite, two databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from sabamon.server.store import Retention, Store
from sabamon.server.store.postgres import PostgresStore
from sabamon.server.store.sqlite import SQLiteStore

StoreFactory = Callable[..., Store]
DEFAULT = Retention()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds an unopened store of the backend under test; every store shares one database."""
    if request.param == "sqlite":
        return lambda retention=DEFAULT: SQLiteStore(tmp_path / "sabamon.db", retention)
    dsn = request.getfixturevalue("postgres_dsn")
    return lambda retention=DEFAULT: PostgresStore(dsn, retention, pool_size=4)


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[Store]:
    opened = make_store()
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def org_id(store: Store) -> str:
    org, _ = await store.ensure_org("test")
    return org.id
