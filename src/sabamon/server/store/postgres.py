"""The PostgreSQL backend: psycopg 3 async on a connection pool.

Each write runs in its own transaction on a pooled connection. Point writes, the hot path,
are coalesced (`coalesce.py`, in `sql_series`): concurrent batches share one transaction and
one upsert statement per table, which multiplies throughput on a small machine. Bulk
inserts (`Upsert`) become one `INSERT ... SELECT FROM unnest(arrays)` statement per table.
With `schema=` the tables live in that schema (created if missing), which lets tests and
several deployments share one database.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from .backend import Backend, forget_nothing
from .migrate import apply_migrations, load_migrations
from .ops import DeleteKeys, Many, Op, Query, Step, single
from .pg_arrays import numeric_array, register

T = TypeVar("T")

MIGRATION_LOCK = 0x5ABA_0001
"""Advisory lock id that serialises migrations between server processes."""

log = logging.getLogger(__name__)


MAX_DELETE_KEYS = 10_000
"""Keys per `DELETE ... USING unnest` statement. With a day's seal of 500 series (144,000
(bucket, series) keys) against a head of 4.3 M rows PostgreSQL planned a merge join that
walked the whole primary key (2 to 10 s); up to 28,800 keys it seeks each (181 ms)."""


@functools.lru_cache(maxsize=512)
def to_pyformat(statement: str) -> str:
    """`?` placeholders to psycopg's `%s` (literal `%` doubled first)."""
    return statement.replace("%", "%%").replace("?", "%s")


@functools.lru_cache(maxsize=64)
def _unnest_insert(table: str, columns: tuple[str, ...], types: tuple[str, ...], tail: str) -> str:
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) " + tail


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    register(conn)


def _locked(step: Step[T]) -> Step[T]:
    yield Query("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
    return (yield from step)


class PostgresBackend(Backend):
    """The store's `backend.Backend` on the PostgreSQL database at `dsn`."""

    point_flushers = 3
    """Transactions writing coalesced point batches at once (each waits on its commit)."""

    skip_locked_rows = True
    unwritable_since: float | None = None

    def __init__(self, dsn: str, *, schema: str | None = None, pool_size: int = 8) -> None:
        self.on_rollback: Callable[[], None] = forget_nothing
        self.dsn = dsn
        self.schema = schema
        self.pool_size = pool_size
        self._pool: AsyncConnectionPool | None = None

    async def open(self, now: int) -> None:
        kwargs: dict[str, Any] = {}
        if self.schema is not None:
            async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                await conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            kwargs["options"] = f"-c search_path={self.schema}"
        self._pool = AsyncConnectionPool(
            self.dsn,
            min_size=2,
            max_size=self.pool_size,
            kwargs={**kwargs, "autocommit": True},
            configure=_configure,
            open=False,
        )
        await self._pool.open(wait=True, timeout=10)
        migrations = load_migrations("postgres")
        applied = await self.write(_locked(apply_migrations(migrations, now)))
        log.info(
            "store opened backend=postgres schema=%s migrations_applied=%d",
            self.schema or "public",
            len(applied),
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ping(self) -> bool:
        try:
            return bool(await self.read(single(Query("SELECT 1"))))
        except (psycopg.Error, RuntimeError):
            return False

    def queue_depths(self) -> dict[str, int]:
        """Reads and writes waiting for a connection of the pool."""
        if self._pool is None:
            return {}
        return {"pool_waits": self._pool.get_stats().get("requests_waiting", 0)}

    async def vacuum(self, tables: Sequence[str]) -> None:
        """VACUUM of `tables` (it runs beside reads and writes, outside a transaction)."""
        if self._pool is None:
            raise RuntimeError("the PostgreSQL backend is not open")
        names = sql.SQL(", ").join(map(sql.Identifier, tables))
        async with self._pool.connection() as conn:
            await conn.execute(sql.SQL("VACUUM {}").format(names))

    # running steps --------------------------------------------------------------
    async def read(self, step: Step[T]) -> T:
        """Runs `step`'s statements outside a transaction block: each is its own snapshot,
        as each statement of a READ COMMITTED transaction is, without the round trips of
        BEGIN and COMMIT (two of a series read's three on a pooled connection)."""
        if self._pool is None:
            raise RuntimeError("the PostgreSQL backend is not open")
        async with self._pool.connection() as conn:
            return await _run(conn, step)

    async def write(self, step: Step[T]) -> T:
        try:
            return await self._transaction(step)
        except BaseException:
            self.on_rollback()  # ids cached by the rolled-back transaction
            raise

    async def _transaction(self, step: Step[T]) -> T:
        if self._pool is None:
            raise RuntimeError("the PostgreSQL backend is not open")
        async with self._pool.connection() as conn, conn.transaction():
            return await _run(conn, step)


async def _run(conn: psycopg.AsyncConnection[Any], step: Step[T]) -> T:
    """Executes the ops `step` yields, sending each its result; returns the step's value."""
    try:
        op = next(step)
        while True:
            op = step.send(await _execute(conn, op))
    except StopIteration as done:
        return done.value


async def _execute(conn: psycopg.AsyncConnection[Any], op: Op) -> Any:
    if isinstance(op, Query):
        statement = op.sql + " FOR UPDATE" if op.lock_rows else op.sql
        cursor = await conn.execute(to_pyformat(statement), op.params)
        if op.count:
            return cursor.rowcount
        return await cursor.fetchall() if cursor.description else []
    if isinstance(op, Many):
        async with conn.cursor() as cursor:
            await cursor.executemany(to_pyformat(op.sql), op.rows)
        return None
    if isinstance(op, DeleteKeys):
        for start in range(0, len(op.keys), MAX_DELETE_KEYS):
            statement, params = unnest_delete(op, start)
            await conn.execute(statement, params)
        return None
    if op.rows:
        tail = f"ON CONFLICT {op.on_conflict}"
        statement = _unnest_insert(op.table, op.columns, op.pg_types, tail)
        # a column at a time rather than `zip(*rows)`, whose iterator per row (thousands
        # of GC-tracked objects alive at once) set off several garbage collections a write
        arrays = [
            array_param([row[at] for row in op.rows], pg_type)
            for at, pg_type in enumerate(op.pg_types)
        ]
        await conn.execute(statement, arrays)
    return None


def unnest_delete(op: DeleteKeys, start: int = 0) -> tuple[str, list[Any]]:
    """The keys of `op` from `start` (at most MAX_DELETE_KEYS of them) as one `DELETE ...
    USING unnest(arrays)` statement (pyformat) and its parameters: one array per key
    column, then `op.params`."""
    names = [f"k{index}" for index in range(len(op.columns))]
    arrays = ", ".join(f"%s::{t}[]" for t in op.pg_types)
    match = " AND ".join(
        f"{op.table}.{column} = k.{name}" for column, name in zip(op.columns, names, strict=True)
    )
    where = f" AND ({to_pyformat(op.where)})" if op.where else ""
    statement = (
        f"DELETE FROM {op.table} USING unnest({arrays}) AS k({', '.join(names)}) "
        f"WHERE {match}{where}"
    )
    columns = zip(*op.keys[start : start + MAX_DELETE_KEYS], strict=True)
    arrays_in = [array_param(c, t) for c, t in zip(columns, op.pg_types, strict=True)]
    return statement, [*arrays_in, *op.params]


def array_param(values: Sequence[Any], pg_type: str) -> Any:
    """A column for `unnest`: numeric columns packed in binary (`pg_arrays`), anything else
    (text, NULLs) a list for psycopg to adapt."""
    packed = numeric_array(values, pg_type)
    return list(values) if packed is None else packed
