"""Database work written once, run by either backend.

Every store operation is a generator ("step") that yields operations and receives their
results: a `Query` gets its rows (or, with `count=True`, the number of rows affected), a
`Many` or an `Upsert` gets None. A backend only has to run steps: SQLite runs them
synchronously on its writer or reader threads, PostgreSQL awaits each operation on a
pooled connection. The SQL uses `?` placeholders and the dialect both databases share
(`ON CONFLICT`, `RETURNING`, row values); a backend translates placeholders if it must.
Composite steps call each other with `yield from`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    """One statement. Sends back its rows, or the affected-row count with `count=True`.

    `lock_rows=True` makes a SELECT lock the rows it returns until the transaction ends
    (PostgreSQL appends FOR UPDATE; SQLite runs one write transaction at a time, so it
    needs no row locks).
    """

    sql: str
    params: Sequence[Any] = ()
    count: bool = False
    lock_rows: bool = False


@dataclass(frozen=True)
class Many:
    """One statement run for each parameter row (no rows come back)."""

    sql: str
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Upsert:
    """Insert `rows` into `table`, then `ON CONFLICT <on_conflict>`.

    Kept abstract so each backend can pick its fastest bulk form: SQLite runs an
    `executemany`, PostgreSQL one `INSERT ... SELECT FROM unnest(arrays)`. The rows must
    be unique on the conflict key (PostgreSQL refuses to touch a row twice in one
    statement) and sorted, so concurrent writers lock rows in the same order.
    `pg_types` are the PostgreSQL array element types, one per column.
    """

    table: str
    columns: tuple[str, ...]
    pg_types: tuple[str, ...]
    on_conflict: str
    rows: Sequence[Row]


@dataclass(frozen=True)
class DeleteKeys:
    """Delete the rows of `table` whose `columns` equal one of the `keys` rows and that
    meet `where` (SQL over the table's own columns, `?` placeholders, `params` its values,
    the same for every key; empty for none).

    Kept abstract as `Upsert` is: SQLite runs an `executemany` of one DELETE per key (no
    round trips to save), PostgreSQL one `DELETE ... USING unnest(arrays)`, where a statement
    per key would cost a round of parsing, planning and the client's own work each (the
    compactor deletes a key per five minutes of every series it seals). `pg_types` are the
    PostgreSQL array element types, one per column.
    """

    table: str
    columns: tuple[str, ...]
    pg_types: tuple[str, ...]
    keys: Sequence[Row]
    where: str = ""
    params: Sequence[Any] = ()


Op = Query | Many | Upsert | DeleteKeys
Step = Generator[Op, Any, T]


def single(query: Query) -> Step[Any]:
    """A step of one query, returning its result."""
    return (yield query)


def lock_org(org_id: str) -> Step[None]:
    """Locks the organisation's row until the transaction ends (PostgreSQL; SQLite runs one
    write transaction at a time): a count checked against a per-organisation limit and the
    write it allows, or a deletion and its clean-up, see no concurrent change of the same
    organisation's rows that also takes this lock."""
    yield Query("SELECT id FROM orgs WHERE id = ?", (org_id,), lock_rows=True)


def run_sqlite(conn: sqlite3.Connection, step: Step[T]) -> T:
    """Drive `step` on a sqlite3 connection (inside a transaction the caller manages)."""
    try:
        op = next(step)
        while True:
            op = step.send(_execute_sqlite(conn, op))
    except StopIteration as done:
        return done.value


def _execute_sqlite(conn: sqlite3.Connection, op: Op) -> Any:
    if isinstance(op, Query):
        cursor = conn.execute(op.sql, op.params)
        return cursor.rowcount if op.count else cursor.fetchall()
    if isinstance(op, Many):
        conn.executemany(op.sql, op.rows)
        return None
    if isinstance(op, DeleteKeys):
        match = " AND ".join(f"{column} = ?" for column in op.columns)
        where = f" AND ({op.where})" if op.where else ""
        params = tuple(op.params)
        conn.executemany(
            f"DELETE FROM {op.table} WHERE {match}{where}", [(*key, *params) for key in op.keys]
        )
        return None
    if op.rows:
        marks = ", ".join("?" for _ in op.columns)
        sql = (
            f"INSERT INTO {op.table} ({', '.join(op.columns)}) VALUES ({marks}) "
            + f"ON CONFLICT {op.on_conflict}"
        )
        conn.executemany(sql, op.rows)
    return None
