"""What only the PostgreSQL backend does: schemas, concurrent migration, CI=true on outage."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
import pytest
from tests.server.store.series_helpers import read_values

from sabamon.server.store import HostInput, Point, Store, seal
from sabamon.server.store.migrate import load_migrations
from sabamon.server.store.ops import DeleteKeys, Many, Query, Step, single
from sabamon.server.store.pg_arrays import Float8Array, numeric_array, register
from sabamon.server.store.postgres import (
    MAX_DELETE_KEYS,
    PostgresBackend,
    to_pyformat,
    unnest_delete,
)

pytestmark = pytest.mark.postgres
NOW = 1_700_006_400
T = TypeVar("T")
DAY = NOW - NOW % 86400


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


def _meanwhile(step: Step[T], after: str, meanwhile: Callable[[], None]) -> Step[T]:
    """`step`, with `meanwhile` run (and committed elsewhere) right after the first of its
    statements that contains `after` has run: a writer that commits while the step's
    transaction is open."""
    op, pending = next(step), True
    while True:
        answer = yield op
        if pending and isinstance(op, Query) and after in op.sql:
            meanwhile()
            pending = False
        try:
            op = step.send(answer)
        except StopIteration as done:
            return cast(T, done.value)


def _other_server(
    dsn: str, org_id: str, point: Point, now: int, earliest: int
) -> Callable[[], None]:
    """Writes `point` through a store of its own (another server), committed on return."""

    async def write() -> None:
        other = Store(PostgresBackend(dsn, pool_size=2))
        await other.open()
        try:
            await other.series.write_points(org_id, "host", [point], now, earliest=earliest)
        finally:
            await other.close()

    def run() -> None:
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, write()).result(30)

    return run


async def _day_with_a_late_point(store: Store) -> tuple[str, str, list[Point]]:
    """A host's series sealed into a day chunk (60 points), then a late point of hour 5 of
    that day in the head; returns (org id, host id, the points)."""
    day, now = DAY, DAY + 86400 + 3600  # the day is closed
    org, _ = await store.ensure_org("t")
    host_id = await store.create_host(org.id, HostInput(name="a"), now)
    first = [Point(host_id, "m", day + 60 * i, float(i)) for i in range(60)]
    await store.series.write_points(org.id, "host", first, now, earliest=day)
    assert await store.series.compact(now) == 60  # one day chunk
    late = Point(host_id, "m", day + 5 * 3600, 5.0)
    await store.series.write_points(org.id, "host", [late], now, earliest=day)
    return org.id, host_id, [*first, late]


async def test_a_point_committed_while_its_day_is_resealed_is_kept(postgres_dsn: str) -> None:
    """A late point of a sealed day reseals the day; a point of another hour of that day,
    committed by another server while that seal runs, is not deleted with the window (it
    is sealed by the next run)."""
    store = Store(PostgresBackend(postgres_dsn, pool_size=2))
    await store.open()
    day, now = DAY, DAY + 86400 + 3600
    try:
        org_id, host_id, written = await _day_with_a_late_point(store)
        meanwhile = Point(host_id, "m", day + 10 * 3600, 10.0)
        other_server = _other_server(postgres_dsn, org_id, meanwhile, now, day)
        [(hour, sid)] = await store.backend.read(
            single(Query("SELECT hour, series_id FROM head_windows"))
        )
        window = seal.Window(day, 86400)
        sealed = await store.backend.write(
            _meanwhile(seal.seal_window(window, [sid], now), "FROM points", other_server)
        )
        assert (hour, sealed.points) == (day + 5 * 3600, 61)
        assert await store.series.compact(now) == 62  # the point written meanwhile
        got = await store.series.recent_points(org_id, "host", ["m"], day, now, [host_id])
        assert got == {(host_id, "m"): [(p.time, p.value) for p in (*written, meanwhile)]}
    finally:
        await store.close()


async def test_points_committed_under_a_mark_made_during_a_seal_are_kept(
    postgres_dsn: str,
) -> None:
    """A seal holds the marks it found; a point another server commits after that, in an
    hour of the window without a mark, makes a fresh mark that the seal does not hold, so
    neither that point nor one committed in its five minutes after the seal read the head
    is deleted by the seal: both are sealed by the next run."""
    store = Store(PostgresBackend(postgres_dsn, pool_size=2))
    await store.open()
    day, now = DAY, DAY + 86400 + 3600
    try:
        org_id, host_id, written = await _day_with_a_late_point(store)
        [(_, sid)] = await store.backend.read(
            single(Query("SELECT hour, series_id FROM head_windows"))
        )
        marked = Point(host_id, "m", day + 10 * 3600, 10.0)
        after_read = Point(host_id, "m", day + 10 * 3600 + 60, 11.0)
        step = seal.seal_window(seal.Window(day, 86400), [sid], now)
        step = _meanwhile(
            step, "FROM head_windows", _other_server(postgres_dsn, org_id, marked, now, day)
        )
        step = _meanwhile(
            step,
            "SELECT bucket, series_id, ts, value FROM points",
            _other_server(postgres_dsn, org_id, after_read, now, day),
        )
        assert (await store.backend.write(step)).points == 61
        assert await store.series.compact(now) == 63
        got = await store.series.recent_points(org_id, "host", ["m"], day, now, [host_id])
        expected = [(p.time, p.value) for p in (*written, marked, after_read)]
        assert got == {(host_id, "m"): expected}
    finally:
        await store.close()


def _plans(conn: psycopg.Connection[Any], step: Step[object]) -> list[str]:
    """Runs `step` in a transaction rolled back after, with the plan of each of its queries
    of the head (EXPLAIN ANALYZE)."""
    plans, op = [], next(step)
    register(conn)  # the packed arrays of `DeleteKeys`, as the backend's connections have
    with conn.transaction(force_rollback=True):
        try:
            while True:
                answer: object = None
                if isinstance(op, Query | Many | DeleteKeys):
                    if isinstance(op, DeleteKeys):
                        sql, params = unnest_delete(op)
                    else:
                        locked = isinstance(op, Query) and op.lock_rows
                        sql = to_pyformat(op.sql + (" FOR UPDATE" if locked else ""))
                        params = op.params if isinstance(op, Query) else op.rows[0]
                    if "points" in sql:
                        rows = conn.execute(f"EXPLAIN ANALYZE {sql}", params).fetchall()
                        plans.append("\n".join(row[0] for row in rows))
                    if isinstance(op, Query):
                        cursor = conn.execute(sql, params)
                        answer = cursor.fetchall() if cursor.description else []
                op = step.send(answer)
        except StopIteration:
            return plans


async def test_a_seal_seeks_its_series_in_a_large_head(postgres_dsn: str) -> None:
    """Sealing 500 series of an hour reads their rows of the hour's buckets by index, not
    the whole head (14,400 series x 150 minutes here)."""
    store = Store(PostgresBackend(postgres_dsn, pool_size=2))
    await store.open()
    await store.close()
    hour = NOW - NOW % 3600 - 3600
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO series (org_id, kind, owner, name) "
            "SELECT 'o', 'host', 'h' || (i / 100), 'm' || (i % 100) "
            "FROM generate_series(0, 14399) i"
        )
        conn.execute(
            "INSERT INTO points (bucket, series_id, ts, value) SELECT t - t %% 300, s.id, t, 1 "
            "FROM generate_series(%s, %s, 60) t, series s ORDER BY 1, 2, 3",
            (NOW - 150 * 60, NOW - 60),
        )
        conn.execute(
            "INSERT INTO head_windows (hour, series_id) "
            "SELECT DISTINCT ts - ts % 3600, series_id FROM points"
        )
        conn.execute("ANALYZE")
        ids = [sid for (sid,) in conn.execute("SELECT id FROM series ORDER BY id LIMIT 500")]
        plans = _plans(conn, seal.seal_window(seal.Window(hour, 3600), ids, NOW + 7200))
    assert plans and not [plan for plan in plans if "Seq Scan on points" in plan]


async def test_points_go_to_the_head_in_binary_arrays_exactly(postgres_dsn: str) -> None:
    """Numeric columns travel as packed binary arrays (`pg_arrays`): every float comes back
    bit for bit, -0.0, subnormals and the extremes included, with ids and times intact."""
    store = Store(PostgresBackend(postgres_dsn, pool_size=2))
    await store.open()
    values = [-0.0, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 0.1 + 0.2, 7]
    try:
        points = [Point("h", "m", NOW - 60 * i, v) for i, v in enumerate(values)]
        await store.series.write_points("o", "host", points, NOW)
        got = await store.series.recent_points("o", "host", ["m"], NOW - 3600, NOW)
        want = sorted((p.time, float(p.value)) for p in points)
        assert [(t, v.hex()) for t, v in got[("h", "m")]] == [(t, v.hex()) for t, v in want]
    finally:
        await store.close()


def test_a_column_not_all_numbers_is_left_to_psycopg() -> None:
    assert numeric_array((1, 2**63), "bigint") is None  # beyond 64 bits
    assert numeric_array((1, None), "bigint") is None
    assert numeric_array((1.5, 2), "bigint") is None
    assert numeric_array(("a",), "text") is None
    assert isinstance(numeric_array((1, 2.5), "float8"), Float8Array)


async def test_keys_beyond_one_statement_are_all_deleted_and_no_other(postgres_dsn: str) -> None:
    """`DeleteKeys` with more keys than one statement takes (`MAX_DELETE_KEYS`): every key's
    row goes, with the shared condition, and the rows of other keys stay."""
    backend = PostgresBackend(postgres_dsn, pool_size=2)
    store = Store(backend)
    await store.open()
    wanted = 2 * MAX_DELETE_KEYS + 7
    try:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO head_windows (hour, series_id) "
                "SELECT h * 3600, s FROM generate_series(0, 1) h, generate_series(1, %s) s",
                (wanted + 100,),
            )
        keys = [(3600, sid) for sid in range(1, wanted + 1)] + [(0, 5)]
        where = "hour > ?"
        op = DeleteKeys(
            "head_windows", ("hour", "series_id"), ("bigint", "bigint"), keys, where, (0,)
        )
        await backend.write(single(op))
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            left = conn.execute("SELECT hour, count(*) FROM head_windows GROUP BY hour").fetchall()
        assert sorted(left) == [(0, wanted + 100), (3600, 100)]  # (0, 5) failed the condition
    finally:
        await store.close()
