"""The store under test, parametrised over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sabamon.server.store.base import Store
from sabamon.server.store.postgres import PostgresStore
from sabamon.server.store.sqlite import SQLiteStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        opened: Store = SQLiteStore(tmp_path / "sabamon.db")
    else:
        opened = PostgresStore(request.getfixturevalue("postgres_dsn"), pool_size=4)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def org_id(store: Store) -> str:
    org, _ = await store.ensure_org("test")
    return org.id
