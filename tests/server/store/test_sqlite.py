"""What only the SQLite backend does: group commit, durability, migrations on reopen."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.server.store.series_helpers import read_values

from sabamon.server.store import HostInput, NotFound, Point, Store
from sabamon.server.store.migrate import load_migrations
from sabamon.server.store.sqlite import SQLiteBackend

NOW = 1_700_006_400


async def test_concurrent_writes_share_transactions(tmp_path: Path) -> None:
    backend = SQLiteBackend(tmp_path / "s.db")
    store = Store(backend)
    await store.open()
    try:
        org, _ = await store.ensure_org("t")
        before = backend.group_commits
        batches = [
            [Point(f"h{w}", "m", NOW - 60 * i, float(i)) for i in range(60)] for w in range(200)
        ]
        results = await asyncio.gather(
            *(store.series.write_points(org.id, "host", b, NOW) for b in batches)
        )
        assert all(r.accepted == 60 for r in results)
        assert backend.group_commits - before < 200
        got = await read_values(store.series, org.id, "host", "h199", "m", NOW - 3600, NOW)
        assert got is not None and len(got) == 60
    finally:
        await store.close()


async def test_a_failing_request_rolls_back_alone(tmp_path: Path) -> None:
    store = Store(SQLiteBackend(tmp_path / "s.db"))
    await store.open()
    try:
        org, _ = await store.ensure_org("t")
        host_id = await store.create_host(org.id, HostInput(name="a"), NOW)
        results = await asyncio.gather(
            store.series.write_points(org.id, "host", [Point(host_id, "m", NOW, 1.0)], NOW),
            store.set_host_status(org.id, [host_id, "missing"], "standby"),
            store.series.write_points(org.id, "host", [Point(host_id, "n", NOW, 2.0)], NOW),
            return_exceptions=True,
        )
        assert isinstance(results[1], NotFound)
        assert (await store.get_host(org.id, host_id)).status == "working"
        assert await store.series.metric_names(org.id, "host", host_id) == ["m", "n"]
    finally:
        await store.close()


async def test_reopen_applies_no_migration_twice(tmp_path: Path) -> None:
    for _ in range(2):
        store = Store(SQLiteBackend(tmp_path / "s.db"))
        await store.open()
        await store.close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        recorded = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1")
        assert recorded.fetchall() == [(m.version, m.name) for m in load_migrations("sqlite")]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from sabamon.server.store import Point, Store
    from sabamon.server.store.sqlite import SQLiteBackend

    async def main() -> None:
        store = Store(SQLiteBackend(Path(sys.argv[1])))
        await store.open()
        org, _ = await store.ensure_org("t")
        now = 1_700_006_400
        for i in range(100_000):
            batch = [Point("h", f"m{j}", now - 60 * (i % 1000), float(i)) for j in range(60)]
            await store.series.write_points(org.id, "host", batch, now)
            print(i, flush=True)

    asyncio.run(main())
    """
)


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        acked = -1
        for line in child.stdout:
            acked = int(line)
            if acked >= 50:
                break
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as conn:
        # every acknowledged batch i wrote value i for 60 metrics at its own time
        rows = conn.execute("SELECT count(*), max(value) FROM points").fetchone()
    assert rows[0] >= 60 * (acked + 1)
    assert rows[1] >= acked


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:///x.db"])
def test_open_store_rejects_unknown_schemes(url: str, tmp_path: Path) -> None:
    from sabamon.server.store import open_store

    with pytest.raises(ValueError, match="unsupported scheme"):
        open_store(url, tmp_path)


def test_open_store_picks_the_backend_by_url(tmp_path: Path) -> None:
    from sabamon.server.store import open_store
    from sabamon.server.store.postgres import PostgresBackend

    sqlite = open_store(None, tmp_path).backend
    assert isinstance(sqlite, SQLiteBackend) and sqlite.path == tmp_path / "sabamon.db"
    assert isinstance(open_store("postgresql://u@127.0.0.1/db", tmp_path).backend, PostgresBackend)
