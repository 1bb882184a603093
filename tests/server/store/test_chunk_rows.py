"""Where PostgreSQL keeps a sealed chunk: a blob up to about half a page stays in its row
(no TOAST slices, index entries and half-filled TOAST pages for it); larger ones go to
TOAST uncompressed. Both read back the same."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from tests.server.store.series_helpers import NOW

from sabamon.server.store import Point, Store
from sabamon.server.store.postgres import PostgresBackend

DAY = 86400

pytestmark = pytest.mark.postgres


def toast_rows(dsn: str) -> tuple[list[int], int]:
    """(lengths of the raw chunks' blobs, rows in the chunks' TOAST table)."""
    with psycopg.connect(dsn) as conn:
        lengths = [r[0] for r in conn.execute("SELECT length(data) FROM chunks ORDER BY 1")]
        row = conn.execute(
            "SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 'chunks'::regclass"
        ).fetchone()
        assert row is not None
        count = conn.execute(f"SELECT count(*) FROM {row[0]}").fetchone()
        return lengths, int(count[0]) if count else 0


@pytest.mark.parametrize(("spread", "in_row"), [(10_000, True), (2**52, False)])
async def test_a_chunk_under_half_a_page_stays_in_its_row(
    postgres_dsn: str, spread: int, in_row: bool
) -> None:
    store = Store(PostgresBackend(postgres_dsn, pool_size=2))
    await store.open()
    try:
        org, _ = await store.ensure_org("chunks")
        values = np.random.default_rng(1).integers(0, spread, DAY // 60) / 100
        points = [Point("h", "m", NOW + 60 * i, float(v)) for i, v in enumerate(values)]
        await store.series.write_points(org.id, "host", points, NOW + DAY // 2)
        await store.series.compact(NOW + 2 * DAY)
        read = []
        for half in (NOW, NOW + DAY // 2):  # raw points: 20 h at most a read
            got = await store.series.read_points(
                org.id, "host", "h", "m", half, half + DAY // 2 - 60
            )
            assert got is not None and got.step == 60
            read += [value for _, value in got.points]
    finally:
        await store.close()
    assert read == list(values)
    [length], toasted = toast_rows(postgres_dsn)
    if in_row:
        assert 2_100 < length < 4_000 and toasted == 0
    else:
        assert length > 8_000 and toasted > 0
