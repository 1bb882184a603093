"""Schemathesis against /openapi.json: no 5xx, no response outside its documented schema.

Bounded to a few examples per operation so the run stays fast; it runs with a write key
on both backends (PostgreSQL refuses some strings SQLite accepts, such as NUL bytes).
"""

from __future__ import annotations

from collections import Counter

import httpx
import schemathesis
from api_server import RunningApi
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_no_server_errors_and_responses_match_the_schema(api: RunningApi) -> None:
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    headers = {"X-Api-Key": api.write_key}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    statuses: Counter[int] = Counter()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.explicit, Phase.generate],
        )
        def exercise(case: schemathesis.Case) -> None:
            response = case.call_and_validate(base_url=api.url, headers=headers, checks=CHECKS)
            statuses[response.status_code] += 1

        exercise()
    assert sum(statuses.values()) >= len(operations) and statuses[200] and statuses[400], statuses


def test_every_route_is_described(api: RunningApi) -> None:
    paths = httpx.get(f"{api.url}/openapi.json").json()["paths"]
    for path in (
        "/api/v0/tsdb",
        "/api/v0/hosts/{host_id}/metadata/{namespace}",
        "/api/v0/monitoring/checks/report",
        "/api/v0/graph-defs",
        "/api/v0/services/{service}/graph-defs/{graph_name}",
        "/healthz",
    ):
        assert path in paths
    assert (
        paths["/api/v0/tsdb"]["post"]["requestBody"]["content"]["application/json"]["schema"][
            "type"
        ]
        == "array"
    )
    assert all("422" not in op["responses"] for ops in paths.values() for op in ops.values())
