"""What only the PostgreSQL backend does: schemas, concurrent migration, CI=true on outage."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

import psycopg
import pytest
from tests.server.store.series_helpers import read_values

from sabamon.server.store import HostInput, Point, Store, seal
from sabamon.server.store.migrate import load_migrations
from sabamon.server.store.ops import Query, Step, single
from sabamon.server.store.postgres import PostgresBackend

pytestmark = pytest.mark.postgres
NOW = 1_700_006_400
T = TypeVar("T")


async def test_concurrent_opens_migrate_once(postgres_dsn: str) -> None:
    stores = [Store(PostgresBackend(postgres_dsn, pool_size=2)) for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        org, _ = await stores[0].ensure_org("t")
        host_id = await stores[1].create_host(org.id, HostInput(name="a"), NOW)
        await stores[2].series.write_points(org.id, "host", [Point(host_id, "m", NOW, 1.0)], NOW)
        got = await read_values(stores[0].series, org.id, "host", host_id, "m", NOW - 60, NOW)
        assert got == [(NOW, 1.0)]
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    async with await psycopg.AsyncConnection.connect(postgres_dsn) as conn:
        cursor = await conn.execute("SELECT version FROM schema_migrations ORDER BY 1")
        assert await cursor.fetchall() == [(m.version,) for m in load_migrations("postgres")]


async def test_schema_argument_creates_and_uses_the_schema(postgres_dsn: str) -> None:
    schema = "nested_" + os.urandom(4).hex()
    store = Store(PostgresBackend(postgres_dsn, schema=schema))
    await store.open()
    try:
        assert await store.ping()
    finally:
        await store.close()
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        )
        assert {"points", "series", "schema_migrations"} <= {r[0] for r in await cursor.fetchall()}
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_missing_postgres_fails_under_ci(tmp_path: Path) -> None:
    probe = tmp_path / "test_probe.py"
    probe.write_text("def test_needs_pg(postgres_dsn):\n    pass\n")
    conftest = Path(__file__).parents[2] / "conftest.py"
    (tmp_path / "conftest.py").write_text(conftest.read_text())
    env = {**os.environ, "CI": "true", "SABAMON_TEST_POSTGRES": "postgresql://x@127.0.0.1:1/none"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout
    assert "PostgreSQL unreachable" in run.stdout and "CI=true" in run.stdout


def _after_head_read(step: Step[T], meanwhile: Callable[[], None]) -> Step[T]:
    """`step`, with `meanwhile` run (and committed elsewhere) right after its first read of
    the head: a writer that commits while the step's transaction is open."""
    op, pending = next(step), True
    while True:
        answer = yield op
        if pending and isinstance(op, Query) and "FROM points" in op.sql:
            meanwhile()
            pending = False
        try:
            op = step.send(answer)
        except StopIteration as done:
            return cast(T, done.value)


async def test_a_point_committed_while_its_day_is_resealed_is_kept(postgres_dsn: str) -> None:
    """A late point of a sealed day reseals the day; a point of another hour of that day,
    committed by another server while that seal runs, is not deleted with the window (it
    is sealed by the next run)."""
    store = Store(PostgresBackend(postgres_dsn, pool_size=2))
    await store.open()
    day = NOW - NOW % 86400
    now = day + 86400 + 3600  # the day is closed
    try:
        org, _ = await store.ensure_org("t")
        host_id = await store.create_host(org.id, HostInput(name="a"), now)
        first = [Point(host_id, "m", day + 60 * i, float(i)) for i in range(60)]
        await store.series.write_points(org.id, "host", first, now, earliest=day)
        assert await store.series.compact(now) == 60  # one day chunk
        late = Point(host_id, "m", day + 5 * 3600, 5.0)
        await store.series.write_points(org.id, "host", [late], now, earliest=day)
        meanwhile = Point(host_id, "m", day + 10 * 3600, 10.0)

        async def write_meanwhile() -> None:
            other = Store(PostgresBackend(postgres_dsn, pool_size=2))
            await other.open()
            try:
                await other.series.write_points(org.id, "host", [meanwhile], now, earliest=day)
            finally:
                await other.close()

        def other_server() -> None:
            with concurrent.futures.ThreadPoolExecutor(1) as thread:
                thread.submit(asyncio.run, write_meanwhile()).result(30)

        [(hour, sid)] = await store.backend.read(
            single(Query("SELECT hour, series_id FROM head_windows"))
        )
        window = seal.Window(day, 86400)
        sealed = await store.backend.write(
            _after_head_read(seal.seal_window(window, [sid], now), other_server)
        )
        assert (hour, sealed.points) == (day + 5 * 3600, 61)
        assert await store.series.compact(now) == 62  # the point written meanwhile
        got = await store.series.recent_points(org.id, "host", ["m"], day, now, [host_id])
        assert got == {(host_id, "m"): [(p.time, p.value) for p in (*first, late, meanwhile)]}
    finally:
        await store.close()
