"""Small request helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()


def error(response: httpx.Response, status: int) -> str:
    """The error message, after checking the status and the Mackerel error shape."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str), body
    message: str = body["error"]["message"]
    return message


def register(client: httpx.Client, name: str, **fields: Any) -> str:
    host_id: str = ok(client.post("/api/v0/hosts", json={"name": name, "meta": {}, **fields}))["id"]
    return host_id


def series(client: httpx.Client, host_id: str, name: str, frm: int, to: int) -> list[Any]:
    response = client.get(
        f"/api/v0/hosts/{host_id}/metrics", params={"name": name, "from": frm, "to": to}
    )
    if response.status_code == 404:
        return []
    metrics: list[Any] = ok(response)["metrics"]
    return metrics
