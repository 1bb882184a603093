"""`sabamon migrate-series` on a data folder made by the row layout's code
(fixtures/legacy.db.gz, see fixtures/make_legacy.py): killed mid-way, run again, every
value reads as before, from sealed chunks."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from tests.server.store.series_helpers import read_values

from sabamon.server.store import Store
from sabamon.server.store.migrate import load_migrations
from sabamon.server.store.postgres import PostgresBackend
from sabamon.server.store.sqlite import SQLiteBackend

FIXTURE = Path(__file__).parent / "fixtures" / "legacy.db.gz"
END = 1_700_006_400 + 13 * 3600 + 1800  # as in make_legacy.py
DAY, STEP = 86400, 900
LEGACY_TABLES = (
    "orgs", "hosts", "services", "series", "points", "rollup_300", "rollup_3600",
    "rollup_86400", "dirty_buckets", "host_last_seen",
)  # fmt: skip


def value(series: int, t: int) -> float:
    return series * 100 + (t // STEP) % 97 + (t % 7) / 4


def averages(series: int, frm: int, to: int, step: int) -> list[tuple[int, float]]:
    first = END - 35 * DAY
    times = [t for t in range(first, END, STEP) if frm - frm % step <= t - t % step <= to]
    buckets: dict[int, list[float]] = {}
    for t in times:
        buckets.setdefault(t - t % step, []).append(value(series, t))
    return [(b, sum(vs) / len(vs)) for b, vs in sorted(buckets.items())]


def assert_close(got: list[tuple[int, float]] | None, want: list[tuple[int, float]]) -> None:
    assert got is not None
    assert [t for t, _ in got] == [t for t, _ in want]
    assert [v for _, v in got] == pytest.approx([v for _, v in want])


def migrate_command(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sabamon.cli", "migrate-series", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def run_to_end(*args: str) -> str:
    child = migrate_command(*args)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    return out


def kill_while_sealing(*args: str) -> None:
    with migrate_command(*args) as child:
        assert child.stderr is not None
        seen = ""
        while "sealing (series hours)" not in seen:
            read = child.stderr.read(1)
            assert read, f"the command ended before sealing: {seen}"
            seen += read
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)


async def assert_reads_as_before(store: Store, hosts: list[str]) -> None:
    await store.open()
    try:
        series = store.series
        names = [(h, name) for h in hosts for name in ("loadavg5", "memory.used")]
        for number, (host, name) in enumerate(names):
            raw = await read_values(series, "x", "host", host, name, END - 20 * 3600, END)
            assert raw is None  # another organisation's
            org = await store.ensure_org("default")
            for frm, to, step in (
                (END - 20 * 3600, END, 60),  # raw, sealed
                (END - 25 * DAY, END - 25 * DAY + 20 * 3600, 60),
                (END - 34 * DAY, END - 33 * DAY, 300),  # 5-minute rollups only
                (END - 240 * DAY, END, 3600),
                (END - 300 * DAY, END, 86400),
            ):
                got = await read_values(series, org[0].id, "host", host, name, frm, to)
                assert_close(got, averages(number, frm, to, step))
        orders = await read_values(series, org[0].id, "service", "shop", "orders", END - DAY, END)
        assert_close(orders, averages(9, END - DAY, END, 300))
    finally:
        await store.close()


async def test_migrate_a_sqlite_data_folder_killed_and_resumed(tmp_path: Path) -> None:
    with gzip.open(FIXTURE) as source, open(tmp_path / "sabamon.db", "wb") as target:
        shutil.copyfileobj(source, target)
    with sqlite3.connect(tmp_path / "sabamon.db") as conn:
        hosts = [row[0] for row in conn.execute("SELECT id FROM hosts ORDER BY seq")]
        before = conn.execute("SELECT count(*) FROM points").fetchone()[0]
    kill_while_sealing("--data", str(tmp_path), "--batch", "1")
    with sqlite3.connect(tmp_path / "sabamon.db") as conn:  # part sealed, part not
        assert 0 < conn.execute("SELECT count(*) FROM points").fetchone()[0] < before
    out = run_to_end("--data", str(tmp_path))
    assert "points_sealed=" in out
    with sqlite3.connect(tmp_path / "sabamon.db") as conn:
        assert conn.execute("SELECT count(*) FROM points").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM rollup_300").fetchone()[0] == 0
        sealed = conn.execute("SELECT sum(n) FROM chunks WHERE step = 60").fetchone()[0]
        assert sealed == before
    await assert_reads_as_before(Store(SQLiteBackend(tmp_path / "sabamon.db")), hosts)
    again = run_to_end("--data", str(tmp_path))
    assert "points_sealed=0 rollup_rows=0" in again  # nothing left to do


@pytest.mark.postgres
async def test_migrate_a_postgres_database(tmp_path: Path, postgres_dsn: str) -> None:
    with gzip.open(FIXTURE) as source, open(tmp_path / "legacy.db", "wb") as target:
        shutil.copyfileobj(source, target)
    legacy = sqlite3.connect(tmp_path / "legacy.db")
    with psycopg.connect(postgres_dsn) as conn:  # the row layout's schema, then its rows
        for migration in load_migrations("postgres"):
            if migration.version < 400:
                for statement in migration.statements():
                    conn.execute(statement)
        for table in LEGACY_TABLES:
            rows = legacy.execute(f"SELECT * FROM {table}").fetchall()
            if rows:
                marks = ", ".join(["%s"] * len(rows[0]))
                conn.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at BIGINT NOT NULL)"
        )
        for migration in load_migrations("postgres"):
            if migration.version < 400:
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, 0)",
                    (migration.version, migration.name),
                )
    hosts = [row[0] for row in legacy.execute("SELECT id FROM hosts ORDER BY seq")]
    legacy.close()
    run_to_end("--db", postgres_dsn)
    await assert_reads_as_before(Store(PostgresBackend(postgres_dsn, pool_size=2)), hosts)
