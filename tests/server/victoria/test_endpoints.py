"""The `--series-store` URL forms: a single node, or vminsert + vmselect of one tenant."""

from __future__ import annotations

import pytest

from sabamon.server.victoria.endpoints import parse_series_store


def test_single_node_routes_everything_to_one_url() -> None:
    got = parse_series_store("http://vm:8428/")
    assert got.import_prometheus == "http://vm:8428/api/v1/import/prometheus"
    assert got.query_range == "http://vm:8428/api/v1/query_range"
    assert got.export == "http://vm:8428/api/v1/export"
    assert got.delete_series == "http://vm:8428/api/v1/admin/tsdb/delete_series"
    assert got.health == ("http://vm:8428/health",)
    assert got.flags == "http://vm:8428/flags"


@pytest.mark.parametrize(
    "value",
    [
        "http://vminsert:8480/insert/42/prometheus,http://vmselect:8481/select/42/prometheus",
        "http://vmselect:8481/select/42/,http://vminsert:8480/insert/42",
    ],
)
def test_cluster_routes_writes_to_vminsert_and_reads_to_vmselect(value: str) -> None:
    got = parse_series_store(value)
    assert got.import_prometheus == (
        "http://vminsert:8480/insert/42/prometheus/api/v1/import/prometheus"
    )
    assert got.query_range == "http://vmselect:8481/select/42/prometheus/api/v1/query_range"
    assert got.query == "http://vmselect:8481/select/42/prometheus/api/v1/query"
    assert got.export == "http://vmselect:8481/select/42/prometheus/api/v1/export"
    assert got.series == "http://vmselect:8481/select/42/prometheus/api/v1/series"
    assert got.delete_series == (
        "http://vmselect:8481/delete/42/prometheus/api/v1/admin/tsdb/delete_series"
    )
    assert got.health == ("http://vminsert:8480/health", "http://vmselect:8481/health")
    assert got.flags == "http://vmselect:8481/flags"


def test_cluster_tenant_may_carry_a_project() -> None:
    got = parse_series_store("http://i:8480/insert/7:3/prometheus,http://s:8481/select/7:3")
    assert got.import_prometheus == "http://i:8480/insert/7:3/prometheus/api/v1/import/prometheus"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://vminsert:8480/insert/0/prometheus", "a cluster needs both URLs"),
        ("http://i:8480/insert/0,http://s:8481/select/1", "tenant '0' and vmselect tenant '1'"),
        ("http://i:8480/insert/0,http://i:8480/insert/0", "expected a vmselect URL"),
        ("http://i:8480/insert/0,http://s:8481/api", "expected a vmselect URL"),
        ("vm:8428", "expected an http:// or https:// URL"),
        ("http://vm:8428?x=1", "no query string"),
        ("http://a:1,http://b:2,http://c:3", "expected one URL, or two"),
    ],
)
def test_bad_forms_are_refused_with_the_expected_form(value: str, message: str) -> None:
    with pytest.raises(ValueError, match="series store") as caught:
        parse_series_store(value)
    assert message in str(caught.value)
