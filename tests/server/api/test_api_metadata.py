"""Metadata of hosts, services and roles (spec §9)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import httpx
from api_helpers import error, ok, register
from api_server import RunningApi


def metadata_owners(client: httpx.Client) -> list[str]:
    """The metadata paths of a new host "a" with role shop:web, of shop and of shop:web."""
    host_id = register(client, "a", roleFullnames=["shop:web"])
    return [
        f"/api/v0/hosts/{host_id}/metadata",
        "/api/v0/services/shop/metadata",
        "/api/v0/services/shop/roles/web/metadata",
    ]


def test_host_service_and_role_metadata(client: httpx.Client) -> None:
    for base in metadata_owners(client):
        value = {"list": [1, 2.5, None], "text": "ü'\";--"}
        assert ok(client.put(f"{base}/inventory", json=value)) == {"success": True}
        ok(client.put(f"{base}/count", json=3))
        response = client.get(f"{base}/inventory")
        assert ok(response) == value
        assert parsedate_to_datetime(response.headers["Last-Modified"]).tzname() == "UTC"
        assert response.headers["Last-Modified"].endswith(" GMT")
        assert ok(client.get(f"{base}/count")) == 3
        listed = ok(client.get(base))["metadata"]
        assert sorted(item["namespace"] for item in listed) == ["count", "inventory"]
        assert ok(client.delete(f"{base}/count")) == {"success": True}
        error(client.get(f"{base}/count"), 404)
    error(client.get("/api/v0/services/nosuch/metadata"), 404)
    error(client.get("/api/v0/services/shop/roles/nosuch/metadata"), 404)
    error(client.put("/api/v0/hosts/nosuchhost1/metadata/x", json=1), 404)


def test_metadata_limits_and_namespace_rules(client: httpx.Client) -> None:
    host_id = register(client, "a")
    base = f"/api/v0/hosts/{host_id}/metadata"
    assert "reserved" in error(client.put(f"{base}/mackerel-x", json=1), 400)
    error(client.put(f"{base}/bad%20ns", json=1), 400)
    big = {"blob": "x" * (100 * 1024)}
    error(client.put(f"{base}/big", json=big), 413)
    error(
        client.put(f"{base}/broken", content=b"{", headers={"Content-Type": "application/json"}),
        400,
    )
    for index in range(50):
        ok(client.put(f"{base}/ns{index}", json=index))
    assert "50" in error(client.put(f"{base}/one-too-many", json=1), 400)
    ok(client.put(f"{base}/ns0", json="replaced"))  # an existing namespace can change
    assert ok(client.get(f"{base}/ns0")) == "replaced"
    assert len(ok(client.get(base))["metadata"]) == 50


def test_namespaces_are_at_most_255_characters(client: httpx.Client) -> None:
    for base in metadata_owners(client):
        longest = "n" * 255
        ok(client.put(f"{base}/{longest}", json=1))
        for method in ("PUT", "GET", "DELETE"):
            answer = client.request(method, f"{base}/{longest}x", json=1)
            assert error(answer, 400) == "namespace: must be at most 255 characters"
        assert ok(client.get(base))["metadata"] == [{"namespace": longest}]


def test_retired_host_metadata(api: RunningApi, client: httpx.Client) -> None:
    host_id = register(client, "a")
    base = f"/api/v0/hosts/{host_id}/metadata"
    ok(client.put(f"{base}/ns", json={"a": 1}))
    ok(client.post(f"/api/v0/hosts/{host_id}/retire"))
    error(client.put(f"{base}/ns", json={"a": 2}), 400)
    error(client.delete(f"{base}/ns"), 400)
    assert ok(client.get(f"{base}/ns")) == {"a": 1}
    api.clock.offset = 8 * 86400
    error(client.get(f"{base}/ns"), 400)
