"""What a database must provide for `store.Store`: a handful of primitives that run steps.

Every verb of the store and of `sql_series` is a step (`ops.py`) written once in the SQL
both databases share; a backend only runs steps and says how. Implementations:
`sqlite.SQLiteBackend` (one writer thread with group commit, readers on threads) and
`postgres.PostgresBackend` (an async pool). Where their SQL differs — placeholders,
`FOR UPDATE` on a `Query(lock_rows=True)`, the bulk form of an `Upsert` — the backend
translates the operation as it runs it, so no step is spelled twice.

The two implementations subclass `Backend` explicitly, so mypy checks them against it
(the store picks one by URL through a lazy import, which mypy cannot follow).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from .ops import Step

T = TypeVar("T")


def forget_nothing() -> None:
    """A backend's `on_rollback` until the store sets its own."""


class Backend(Protocol):
    point_flushers: int
    """Coalesced point writes in flight at once (see `coalesce.py`)."""

    skip_locked_rows: bool
    """Whether the database has `FOR UPDATE SKIP LOCKED` (PostgreSQL does, SQLite does not)."""

    unwritable_since: float | None
    """Monotonic time since when writes fail for want of disk (None: they do not)."""

    on_rollback: Callable[[], None]
    """Called when a write's transaction rolls back, before any other write runs (the
    store forgets the series ids that transaction may have cached)."""

    async def open(self, now: int) -> None:
        """Connect and apply pending migrations (recorded as applied at `now`)."""

    async def close(self) -> None:
        """Finish the writes queued and disconnect."""

    async def ping(self) -> bool:
        """True when the database answers (for /healthz)."""

    def queue_depths(self) -> dict[str, int]:
        """Work waiting in this process for the database, by queue name (for /metrics)."""

    async def read(self, step: Step[T]) -> T:
        """Runs `step`, which only reads: on SQLite in one snapshot, on PostgreSQL each
        statement in its own (as in a READ COMMITTED transaction), so a read that must see
        one state of several tables asks for them in one statement."""

    async def vacuum(self, tables: Sequence[str]) -> None:
        """Removes the rows deleted from `tables`, and their index entries, now where the
        database leaves that to later (PostgreSQL's VACUUM); where a delete frees them at
        once (SQLite) there is nothing to do."""

    async def write(self, step: Step[T]) -> T:
        """Runs `step` in a transaction and returns once it has committed.

        If the step raises, none of its writes are kept and the error propagates.
        """
