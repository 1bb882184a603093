"""Versioned schema migrations, shared by both backends.

Migrations are the files `migrations/<dialect>/NNNN_<name>.sql`, applied in version order
inside one transaction and recorded in `schema_migrations`. Statements in a file are
separated by a `;` at the end of a line.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from .ops import Query, Step

Dialect = Literal["sqlite", "postgres"]

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        parts = re.split(r";\s*$", self.sql, flags=re.MULTILINE)
        return [p.strip() for p in parts if _has_code(p)]


def _has_code(chunk: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in chunk.splitlines())


def load_migrations(dialect: Dialect) -> list[Migration]:
    """The dialect's migrations in version order; a misnamed file is an error."""
    folder = resources.files(__package__).joinpath("migrations", dialect)
    found: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise ValueError(f"migration file {dialect}/{entry.name}: expected NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"migrations/{dialect}: duplicate version in {versions}")
    return found


def apply_migrations(migrations: list[Migration], now: int) -> Step[list[int]]:
    """Applies the migrations not yet recorded; returns the versions applied."""
    yield Query(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
    )
    applied = {row[0] for row in (yield Query("SELECT version FROM schema_migrations"))}
    done: list[int] = []
    for migration in migrations:
        if migration.version in applied:
            continue
        for statement in migration.statements():
            yield Query(statement)
        yield Query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, now),
        )
        log.info("migration applied version=%d name=%s", migration.version, migration.name)
        done.append(migration.version)
    return done
