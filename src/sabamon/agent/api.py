"""The agent's client for the Mackerel v0 API (spec/agent.md §6).

Paths, headers and JSON bodies are exactly those mackerel-agent sends, so the same agent
can post to a sabamon server or to Mackerel. Library errors are translated here, at the
boundary, into `ApiError`; the loops only ask `is_network_error` / `is_client_error`.

Hooks other parts hand their output to: `post_check_reports` (the checks loop, through the
spool), `put_metadata` (the metadata loop) and `create_graph_defs` (plugin graph defs).
"""

from __future__ import annotations

import json
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from sabamon import __version__

log = logging.getLogger(__name__)

REVISION = "0000000"
DEFAULT_API_BASE = "https://api.mackerelio.com"
TIMEOUT_SECONDS = 30.0
HOST_STATUSES = ("working", "standby", "maintenance", "poweroff")


class ApiError(Exception):
    """A failed call. `status` is the HTTP status, or None for a network failure (no answer,
    a dropped connection, a timeout, a redirect that could not be followed). `retry_after` is
    the server's Retry-After in seconds, when it sent one."""

    def __init__(self, status: int | None, message: str, retry_after: float | None = None):
        self.status = status
        self.message = message
        self.retry_after = retry_after
        prefix = f"API error {status}" if status is not None else "network error"
        super().__init__(f"{prefix}: {message}")


def is_network_error(err: BaseException) -> bool:
    return isinstance(err, ApiError) and err.status is None


def is_client_error(err: BaseException) -> bool:
    return isinstance(err, ApiError) and err.status is not None and 400 <= err.status < 500


def is_server_error(err: BaseException) -> bool:
    return isinstance(err, ApiError) and err.status is not None and 500 <= err.status < 600


def user_agent() -> str:
    return f"sabamon-agent/{__version__} (Revision {REVISION})"


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        message = body["error"]["message"] if isinstance(body["error"], dict) else body["error"]
        return str(message)
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase or f"status {response.status_code}"


class AgentApi:
    """One keep-alive connection pool to the API base. `transport` lets unit tests plug in
    `httpx.MockTransport`; scenarios use a real loopback server."""

    def __init__(
        self,
        api_base: str,
        api_key: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        keep_alive: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        limits = httpx.Limits(max_keepalive_connections=5 if keep_alive else 0)
        self._client = httpx.Client(
            base_url=api_base.rstrip("/"),
            headers={
                "X-Api-Key": api_key,
                "User-Agent": user_agent(),
                "X-Agent-Version": __version__,
                "X-Revision": REVISION,
            },
            timeout=timeout,
            limits=limits,
            transport=transport,
            follow_redirects=False,
            trust_env=True,
        )

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, body: Any = None, *, has_body: bool = False) -> Any:
        """Send one call and return the decoded JSON answer; raise ApiError otherwise."""
        headers = {}
        content: bytes | None = None
        if has_body or body is not None:
            content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        if content is not None or method != "GET":
            headers["Content-Type"] = "application/json"
        try:
            response = self._client.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as err:
            raise ApiError(None, f"{method} {path}: {err!r}") from err
        if response.is_redirect:
            # A redirect without a usable Location is a transport failure, as in the original.
            raise ApiError(None, f"{method} {path}: redirect {response.status_code} not followed")
        if not response.is_success:
            raise ApiError(
                response.status_code,
                f"{method} {path}: {_error_message(response)}",
                _retry_after_seconds(response.headers.get("Retry-After")),
            )
        try:
            return response.json() if response.content else None
        except ValueError as err:
            raise ApiError(response.status_code, f"{method} {path}: answer is not JSON") from err

    # -- hosts ---------------------------------------------------------------------------
    def find_host(self, host_id: str) -> dict[str, Any]:
        answer = self.request("GET", f"/api/v0/hosts/{quote(host_id, safe='')}")
        host: dict[str, Any] = answer["host"]
        return host

    def find_hosts_by_custom_identifier(self, custom_identifier: str) -> list[dict[str, Any]]:
        query = f"customIdentifier={quote(custom_identifier, safe='')}"
        query += "".join(f"&status={status}" for status in HOST_STATUSES)
        answer = self.request("GET", f"/api/v0/hosts?{query}")
        hosts: list[dict[str, Any]] = answer.get("hosts") or []
        return hosts

    def create_host(self, spec: dict[str, Any]) -> str:
        answer = self.request("POST", "/api/v0/hosts", spec)
        return str(answer["id"])

    def update_host(self, host_id: str, spec: dict[str, Any]) -> None:
        self.request("PUT", f"/api/v0/hosts/{quote(host_id, safe='')}", spec)

    def update_host_status(self, host_id: str, status: str) -> None:
        self.request("POST", f"/api/v0/hosts/{quote(host_id, safe='')}/status", {"status": status})

    def retire_host(self, host_id: str) -> None:
        self.request("POST", f"/api/v0/hosts/{quote(host_id, safe='')}/retire", has_body=True)

    # -- data ----------------------------------------------------------------------------
    def post_metric_values(self, values: list[dict[str, Any]]) -> None:
        """`values` are `{"hostId", "name", "time", "value"}` (time omitted when 0)."""
        self.request("POST", "/api/v0/tsdb", values)

    def post_check_reports(self, reports: list[dict[str, Any]]) -> None:
        """Hook for the checks loop: `reports` are §6 report objects, sent as
        `{"reports": [...]}`. Raises ApiError (`.status` None for network errors)."""
        self.request("POST", "/api/v0/monitoring/checks/report", {"reports": reports})

    def create_graph_defs(self, defs: list[dict[str, Any]]) -> None:
        """Hook for plugin graph defs: `[{"name": "custom.G", "displayName", "unit",
        "metrics": [{"name", "displayName", "isStacked"}]}]`."""
        self.request("POST", "/api/v0/graph-defs/create", defs)

    def put_metadata(self, host_id: str, namespace: str, value: Any) -> None:
        """Hook for the metadata loop: PUT the plugin's JSON under its namespace."""
        path = f"/api/v0/hosts/{quote(host_id, safe='')}/metadata/{quote(namespace, safe='')}"
        self.request("PUT", path, value, has_body=True)
