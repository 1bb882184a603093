"""A cluster's URL forms: writes reach vminsert, reads and deletes vmselect, each under
the tenant's path. Debian packages no cluster binaries, so vminsert and vmselect are the
loopback stand-ins of `cluster_standin.py` in front of a real single node."""

from __future__ import annotations

import pytest
from tests.server.victoria.cluster_standin import cluster_standin

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store.records import Point
from sabamon.server.victoria.endpoints import parse_series_store
from sabamon.server.victoria.store import VictoriaSeriesStore

pytestmark = pytest.mark.victoria

NOW = 1_700_006_400
PREFIX = "/select/5/prometheus/api/v1"


async def test_writes_go_to_vminsert_and_reads_to_vmselect_of_the_tenant(
    victoria: VictoriaProcess,
) -> None:
    with cluster_standin(victoria.url) as (insert, select):
        value = f"{insert.url}/insert/5/prometheus,{select.url}/select/5/prometheus"
        series = VictoriaSeriesStore(parse_series_store(value), clock=lambda: NOW)
        await series.open()
        try:
            assert await series.ping()
            await series.write_points("cluster-org", "host", [Point("h", "m", NOW, 2.0)], NOW)
            victoria.flush()
            got = await series.read_points("cluster-org", "host", "h", "m", NOW - 60, NOW)
            assert got is not None and got.points == [(NOW, 2.0)]
            assert await series.latest_points("cluster-org", ["h"], ["m"]) == {
                "h": {"m": (NOW, 2.0)}
            }
            assert await series.metric_names("cluster-org", "host", "h") == ["m"]
            recent = await series.recent_points("cluster-org", "host", ["m"], NOW - 60, NOW)
            assert recent == {("h", "m"): [(NOW, 2.0)]}
            assert await series.host_last_seen("cluster-org") == {"h": NOW}
            assert await series.delete_series("cluster-org", "host", "h") == 1
        finally:
            await series.close()
    assert insert.requests == [
        "GET /health",
        "POST /insert/5/prometheus/api/v1/import/prometheus",
    ]
    # and "GET /flags" when the settings check of `open` got there before `close`
    assert set(select.requests) - {"GET /flags"} == {
        "GET /health",
        f"POST {PREFIX}/query_range",
        f"POST {PREFIX}/query",
        f"POST {PREFIX}/series",
        f"POST {PREFIX}/export",
        "POST /delete/5/prometheus/api/v1/admin/tsdb/delete_series",
    }


async def test_a_single_node_path_on_vmselect_is_refused_by_the_standin(
    victoria: VictoriaProcess,
) -> None:
    """The stand-in answers only its component's paths, as vmselect does."""
    import httpx

    with cluster_standin(victoria.url) as (_, select):
        answer = httpx.post(f"{select.url}/api/v1/query", data={"query": "vector(1)"})
    assert answer.status_code == 400 and "unsupported path" in answer.text
