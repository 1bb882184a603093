"""The rollup tables of the layout before chunks are read only while they hold rows: nothing
writes them any more, so a store that has found one empty does not read it again (a
round trip saved per read), while a store that has not still reads the rows there."""

from __future__ import annotations

from collections.abc import Callable

from tests.server.store.series_helpers import NOW, read_values

from sabamon.server.store import Point, Store
from sabamon.server.store.ops import Query, single

StoreFactory = Callable[..., Store]
DAY = 86400


async def test_a_legacy_table_found_empty_is_not_read_again(
    make_sql_series_store: StoreFactory,
) -> None:
    frm, to = NOW - DAY, NOW - 60  # 5-minute buckets: the rollup_300 table answers too
    first = make_sql_series_store()
    await first.open()
    try:
        await first.series.write_points("o", "host", [Point("h", "m", NOW - 600, 1.0)], NOW)
        before = await read_values(first.series, "o", "host", "h", "m", frm, to)
        assert before == [(NOW - 600, 1.0)]
        assert first.series.emptied_legacy == {"rollup_300"}  # type: ignore[attr-defined]
        # a row appearing now (nothing writes these tables: the test plays the old layout)
        await first.backend.write(
            single(
                Query(
                    "INSERT INTO rollup_300 (series_id, bucket, total, n) "
                    "SELECT id, ?, 20.0, 10 FROM series WHERE name = 'm'",
                    (NOW - DAY,),
                )
            )
        )
        assert await read_values(first.series, "o", "host", "h", "m", frm, to) == before
    finally:
        await first.close()
    second = make_sql_series_store()  # another process: the table is read, the row found
    await second.open()
    try:
        got = await read_values(second.series, "o", "host", "h", "m", frm, to)
        assert got == [(NOW - DAY, 2.0), (NOW - 600, 1.0)]
        assert second.series.emptied_legacy == set()  # type: ignore[attr-defined]
    finally:
        await second.close()
