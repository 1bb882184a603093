"""The VictoriaMetrics client against the real binary: bounded waits, clear errors, and a
pool that recovers by itself when VictoriaMetrics comes back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.support.waiting import free_port

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store.series_store import SeriesStoreError, SeriesStoreUnavailable
from sabamon.server.victoria.client import ClientLimits, VictoriaClient
from sabamon.server.victoria.endpoints import single_node
from sabamon.server.victoria.store import VictoriaSeriesStore

pytestmark = pytest.mark.victoria

QUICK = ClientLimits(connect_timeout=0.5, write_timeout=0.5, read_timeout=0.5)
LINE = b'm{org="client-test",host="h"} 1.5 1700000000000\n'


async def test_an_import_reads_back_through_export(victoria: VictoriaProcess) -> None:
    client = VictoriaClient(single_node(victoria.url))
    try:
        await client.import_prometheus(b'custom.a.b{org="client-rt",host="h"} 2.5 1700000060000\n')
        victoria.flush()
        rows = await client.export('{org="client-rt"}', 1_700_000_000, 1_700_000_100)
    finally:
        await client.aclose()
    assert rows == [
        {
            "metric": {"__name__": "custom.a.b", "org": "client-rt", "host": "h"},
            "values": [2.5],
            "timestamps": [1_700_000_060_000],
        }
    ]


async def test_a_stopped_victoria_is_unavailable_at_once_and_writes_resume_after(
    own_victoria: VictoriaProcess,
) -> None:
    client = VictoriaClient(single_node(own_victoria.url), QUICK)
    try:
        await client.import_prometheus(LINE)  # a pooled connection exists
        own_victoria.stop()
        started = time.monotonic()
        with pytest.raises(SeriesStoreUnavailable, match="import/prometheus"):
            await client.import_prometheus(LINE)
        assert time.monotonic() - started < 0.5
        assert not await client.healthy()
        own_victoria.start()
        await client.import_prometheus(LINE)
        assert await client.healthy()
    finally:
        await client.aclose()


async def test_a_hung_victoria_costs_one_deadline(own_victoria: VictoriaProcess) -> None:
    client = VictoriaClient(single_node(own_victoria.url), QUICK)
    try:
        own_victoria.pause()
        started = time.monotonic()
        with pytest.raises(SeriesStoreUnavailable, match=r"no answer within 0\.5 s"):
            await client.import_prometheus(LINE)
        with pytest.raises(SeriesStoreUnavailable):
            await client.query("vector(1)", 1_700_000_000)
        assert time.monotonic() - started < 2.0
        own_victoria.resume()
        await client.import_prometheus(LINE)
    finally:
        own_victoria.resume()
        await client.aclose()


async def test_a_refused_query_is_an_error_naming_the_answer(victoria: VictoriaProcess) -> None:
    client = VictoriaClient(single_node(victoria.url))
    try:
        with pytest.raises(SeriesStoreError, match="query_range: 4") as caught:
            await client.query_range("sum(", 1_700_000_000, 1_700_000_060, 60)
        assert not isinstance(caught.value, SeriesStoreUnavailable)
    finally:
        await client.aclose()


async def test_an_answer_over_the_size_limit_is_abandoned(victoria: VictoriaProcess) -> None:
    lines = b"".join(b'big{org="client-big",host="h%d"} 1 1700000000000\n' % i for i in range(200))
    client = VictoriaClient(single_node(victoria.url), ClientLimits(max_response_bytes=2000))
    try:
        await client.import_prometheus(lines)
        victoria.flush()
        with pytest.raises(SeriesStoreError, match="answer over 2000 bytes"):
            await client.export('{org="client-big"}', 1_699_999_999, 1_700_000_001)
    finally:
        await client.aclose()


async def test_a_victoria_without_one_second_dedup_is_named_at_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plain = VictoriaProcess(tmp_path / "plain", free_port(), flags=("-loggerLevel=ERROR",))
    plain.start()
    try:
        series = VictoriaSeriesStore(single_node(plain.url))
        await series.open()
        try:
            assert await series.check_settings() == ["-dedup.minScrapeInterval='' (want 1s)"]
        finally:
            await series.close()
    finally:
        plain.stop()
    assert "flag=dedup.minScrapeInterval" in caplog.text


async def test_the_recommended_settings_pass(victoria: VictoriaProcess) -> None:
    series = VictoriaSeriesStore(single_node(victoria.url))
    await series.open()
    try:
        assert await series.check_settings() == []
    finally:
        await series.close()
