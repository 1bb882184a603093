"""The store fixtures, parametrised over the backends (one suite, every database).

`make_store`/`store`: the metadata store with its default series store. `make_series_store`
/`series`: a store whose `series` is each series backend in turn, for the shared series
suite (`test_series_*.py`); a new series backend adds one entry to `SERIES_BACKENDS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from tests.server.store.series_helpers import NOW
from tests.server.victoria.visible import VisibleAtOnce

from sabamon.server.store import Retention, Store
from sabamon.server.store.postgres import PostgresBackend
from sabamon.server.store.series_store import SeriesStore
from sabamon.server.store.sqlite import SQLiteBackend

StoreFactory = Callable[..., Store]
DEFAULT = Retention()


STORE_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SERIES_BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("victoria", marks=pytest.mark.victoria),
]
"""Series backends under the shared series suite; "sqlite" and "postgres" are the series
tables in the metadata database, "victoria" a VictoriaMetrics of the test's own (metadata
in SQLite), whose clock is the suite's `NOW`."""


def store_factory(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Unopened stores of `backend`; every store a factory builds shares one database."""
    if backend == "sqlite":
        return lambda retention=DEFAULT: Store(SQLiteBackend(tmp_path / "sabamon.db"), retention)
    if backend == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")
        return lambda retention=DEFAULT: Store(PostgresBackend(dsn, pool_size=4), retention)
    if backend == "victoria":
        victoria = request.getfixturevalue("own_victoria")
        return lambda retention=DEFAULT: Store(
            SQLiteBackend(tmp_path / "sabamon.db"),
            retention,
            series_store=VisibleAtOnce(victoria, clock=lambda: NOW),
        )
    raise ValueError(f"unknown backend {backend!r}")


@pytest.fixture(params=STORE_BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds an unopened store of the backend under test; every store shares one database."""
    return store_factory(request.param, request, tmp_path)


@pytest.fixture(params=STORE_BACKENDS)
def make_sql_series_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds an unopened store whose series are its own tables, with their rollups (the
    rollup properties hold there; VictoriaMetrics keeps no rollups of sabamon's)."""
    return store_factory(request.param, request, tmp_path)


@pytest.fixture(params=SERIES_BACKENDS)
def make_series_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds an unopened store whose `series` is the series backend under test."""
    return store_factory(request.param, request, tmp_path)


@pytest.fixture
async def series(make_series_store: StoreFactory) -> AsyncIterator[SeriesStore]:
    """The series backend under test, open (its store is opened and closed around it)."""
    opened = make_series_store()
    await opened.open()
    yield opened.series
    await opened.close()


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
