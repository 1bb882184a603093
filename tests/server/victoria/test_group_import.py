"""Concurrent writes share VictoriaMetrics import requests; each writer still learns the
outcome of the request that held its lines."""

from __future__ import annotations

import asyncio

import pytest
from tests.server.victoria.cluster_standin import cluster_standin

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store.records import Point
from sabamon.server.store.series_store import SeriesStoreError, SeriesStoreUnavailable
from sabamon.server.victoria.endpoints import parse_series_store
from sabamon.server.victoria.group_import import GroupImport
from sabamon.server.victoria.store import VictoriaSeriesStore

NOW = 1_700_006_400


@pytest.mark.victoria
async def test_concurrent_writes_share_requests_and_all_land(victoria: VictoriaProcess) -> None:
    with cluster_standin(victoria.url) as (insert, select):
        value = f"{insert.url}/insert/0/prometheus,{select.url}/select/0/prometheus"
        series = VictoriaSeriesStore(parse_series_store(value), clock=lambda: NOW)
        await series.open()
        try:
            await asyncio.gather(
                *(
                    series.write_points("group", "host", [Point(f"h{i}", "m", NOW, i)], NOW)
                    for i in range(50)
                )
            )
            victoria.flush()
            got = await series.recent_points("group", "host", ["m"], NOW, NOW)
        finally:
            await series.close()
    assert got == {(f"h{i}", "m"): [(NOW, float(i))] for i in range(50)}
    imports = [r for r in insert.requests if r.endswith("/import/prometheus")]
    assert 1 <= len(imports) < 50


async def test_a_refused_body_fails_alone_and_an_outage_fails_every_waiter() -> None:
    sent: list[bytes] = []
    outage = False

    async def send(body: bytes) -> None:
        await asyncio.sleep(0)
        if outage:
            raise SeriesStoreUnavailable("down")
        if b"bad" in body:
            raise SeriesStoreError("400 cannot parse")
        sent.append(body)

    queue = GroupImport(send, senders=1)
    queue.start()
    try:
        bodies = [b"a 1\n", b"bad\n", b"c 3\n"]
        results = await asyncio.gather(*(queue.write(b) for b in bodies), return_exceptions=True)
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], SeriesStoreError)
        assert b"a 1\n" in b"".join(sent) and b"c 3\n" in b"".join(sent)
        outage = True
        results = await asyncio.gather(*(queue.write(b) for b in bodies), return_exceptions=True)
        assert all(isinstance(r, SeriesStoreUnavailable) for r in results)
    finally:
        await queue.stop()
