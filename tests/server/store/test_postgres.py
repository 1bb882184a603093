"""What only the PostgreSQL backend does: schemas, concurrent migration, CI=true on outage."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from tests.server.store.series_helpers import read_values

from sabamon.server.store import HostInput, Point, Store
from sabamon.server.store.migrate import load_migrations
from sabamon.server.store.postgres import PostgresBackend

pytestmark = pytest.mark.postgres
NOW = 1_700_006_400


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
