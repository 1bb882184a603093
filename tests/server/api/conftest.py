"""A real sabamon server on a loopback port, over SQLite and over PostgreSQL.

PostgreSQL tests get a fresh database each; without the service they skip, except under
CI=true, where they fail.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from api_server import Backend, ManualClock, RunningApi, free_socket, serve_in_thread
from server_process import ServerProcess

from sabamon.server.app import create_app
from sabamon.server.cli import ORG_NAME, bootstrap, make_store
from sabamon.server.store import Store
from sabamon.server.store.series import DEFAULT_MAX_SERIES

PG_ADMIN_DSN = os.environ.get("SABAMON_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_or_skip() -> None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_ADMIN_DSN} is required under CI: {exc}")
        pytest.skip(f"PostgreSQL at {PG_ADMIN_DSN} is not running")


def database_url(name: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A database with the schema applied once, copied for each test (much faster)."""
    postgres_or_skip()
    name = f"sabamon_api_template_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        store = make_store(database_url(name), Path("."))
        asyncio.run(open_and_close(store))
        yield name
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def open_and_close(store: Store) -> None:
    await store.open()
    await store.close()


@pytest.fixture
def fresh_pg_dsn(pg_template: str) -> Iterator[str]:
    """A new database with the schema and no data, dropped afterwards."""
    name = f"sabamon_api_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    try:
        yield database_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", None, tmp_path)
    return Backend("postgres", request.getfixturevalue("fresh_pg_dsn"), tmp_path)


async def create_keys(store: Store) -> tuple[str, str]:
    """(write key, read-only key) of the organisation that `bootstrap` made."""
    write = await bootstrap(store)
    assert write is not None
    await store.open()
    try:
        org, _ = await store.ensure_org(ORG_NAME)
        read = await store.create_api_key(org.id, name="reader", write=False)
    finally:
        await store.close()
    return write.key, read.key


@pytest.fixture
def start_api(backend: Backend) -> Iterator[Callable[..., RunningApi]]:
    """Starts servers on the backend (keys made once); all are stopped at teardown."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []
    keys: list[tuple[str, str]] = []

    def start(max_series_per_org: int = DEFAULT_MAX_SERIES, **app_options: object) -> RunningApi:
        if not keys:
            keys.append(asyncio.run(create_keys(backend.store())))
        clock = ManualClock()
        store = backend.store(max_series_per_org)
        app = create_app(store, clock=clock, **app_options)  # type: ignore[arg-type]
        sock = free_socket()
        port = sock.getsockname()[1]
        running.append(serve_in_thread(app, sock))
        write_key, read_key = keys[0]
        return RunningApi(f"http://127.0.0.1:{port}", write_key, read_key, clock, backend)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def api(start_api: Callable[..., RunningApi]) -> RunningApi:
    return start_api()


@pytest.fixture
def client(api: RunningApi) -> Iterator[httpx.Client]:
    with api.client("write") as http:
        yield http


@pytest.fixture
def servers(backend: Backend) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.close()
