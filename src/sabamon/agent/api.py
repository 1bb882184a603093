"""The agent's client for the Mackerel v0 API (spec/agent.md §6).

Paths, headers and JSON bodies are exactly those mackerel-agent sends, so the same agent
can post to a sabamon server or to Mackerel. Transport errors are translated here, at the
boundary, into `ApiError`; the loops only ask `is_network_error` / `is_client_error`.

The transport is `sabamon.agent.http11`, not httpx as DESIGN.md first chose: measured beside
a bare `python -c 'import psutil'` (12.5 MB RSS), importing httpx added ~17 MB and the agent
stood at 38.5 MB with a full spool against a 25 MB budget. Keep-alive, the 30 s timeout (for
the whole call, as Go's `http.Client.Timeout` in the original) and proxies from the environment
are kept; the API answers small JSON, so gzip is not needed.

Hooks other parts hand their output to: `post_check_reports` (the checks loop, through the
spool), `put_metadata` (the metadata loop) and `create_graph_defs` (plugin graph defs).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sabamon import __version__
from sabamon.agent.http11 import HttpConnection, HttpError, Response, TlsContext

log = logging.getLogger(__name__)

REVISION = "0000000"
DEFAULT_API_BASE = "https://api.mackerelio.com"
TIMEOUT_SECONDS = 30.0
"""Each call's total deadline: name lookup, connect, TLS, send and the whole answer
(spec/agent.md §1: 30 s)."""
HOST_STATUSES = ("working", "standby", "maintenance", "poweroff")
MAX_IDLE_CONNECTIONS = 4
REPLAY_HEADER = "X-Sabamon-Replay"
NOT_REFUSALS = (401, 403, 408, 413, 429)
"""4xx statuses that do not mean "this content will never be accepted"."""
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HTTP_DATE = re.compile(r"\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT")


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


def is_refused(err: BaseException) -> bool:
    """True when the server refused what was sent, so sending it again cannot help: a 4xx
    other than 401/403 (the key is at fault, not the data), 408 and 429 (temporary) and 413
    (the sender splits)."""
    return is_client_error(err) and isinstance(err, ApiError) and err.status not in NOT_REFUSALS


def is_server_error(err: BaseException) -> bool:
    return isinstance(err, ApiError) and err.status is not None and 500 <= err.status < 600


def user_agent() -> str:
    return f"sabamon-agent/{__version__} (Revision {REVISION})"


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from `now`: delta-seconds or an IMF-fixdate HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    match = _HTTP_DATE.fullmatch(value.strip())
    if match is None or match[2] not in _MONTHS:
        return None
    day, year, hour, minute, second = (int(match[i]) for i in (1, 3, 4, 5, 6))
    try:
        when = datetime(year, _MONTHS.index(match[2]) + 1, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _error_message(response: Response) -> str:
    try:
        body = json.loads(response.body)
        message = body["error"]["message"] if isinstance(body["error"], dict) else body["error"]
        return str(message)
    except (ValueError, KeyError, TypeError):
        return response.reason or f"status {response.status}"


class AgentApi:
    """Keep-alive connections to the API base, shared by the agent's threads: a call takes an
    idle connection or opens one, and gives it back after."""

    def __init__(
        self,
        api_base: str,
        api_key: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        keep_alive: bool = True,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.keep_alive = keep_alive
        self._path_prefix = api_base.split("://", 1)[-1].partition("/")[2].rstrip("/")
        self._headers = {
            "X-Api-Key": api_key,
            "User-Agent": user_agent(),
            "X-Agent-Version": __version__,
            "X-Revision": REVISION,
        }
        self._idle: list[HttpConnection] = []
        self._tls = TlsContext()  # one CA store load for all the client's connections
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the idle keep-alive connections; a later call opens a new one."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def __enter__(self) -> AgentApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _take(self) -> HttpConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return HttpConnection(
            self.api_base,
            timeout=self.timeout,
            keep_alive=self.keep_alive,
            use_env_proxy=True,
            tls=self._tls,
        )

    def _give_back(self, connection: HttpConnection) -> None:
        with self._lock:
            if self.keep_alive and len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        has_body: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one call and return the decoded JSON answer; raise ApiError otherwise."""
        headers = {**self._headers, **(extra_headers or {})}
        content: bytes | None = None
        if has_body or body is not None:
            content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        if content is not None or method != "GET":
            headers["Content-Type"] = "application/json"
        target = f"/{self._path_prefix}{path}" if self._path_prefix else path
        try:
            connection = self._take()
            response = connection.request(method, target, headers, content)
        except (HttpError, ValueError) as err:  # ValueError: a malformed API base or port
            raise ApiError(None, f"{method} {path}: {err}") from err
        self._give_back(connection)
        if 300 <= response.status < 400:
            # A redirect is not followed: a transport failure, as in the original.
            raise ApiError(None, f"{method} {path}: redirect {response.status} not followed")
        if not 200 <= response.status < 300:
            raise ApiError(
                response.status,
                f"{method} {path}: {_error_message(response)}",
                retry_after_seconds(response.headers.get("retry-after")),
            )
        try:
            return json.loads(response.body) if response.body else None
        except ValueError as err:
            raise ApiError(response.status, f"{method} {path}: answer is not JSON") from err

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
    def post_metric_values(self, values: list[dict[str, Any]], *, replay: bool = False) -> None:
        """`values` are `{"hostId", "name", "time", "value"}` (time omitted when 0). With
        `replay` (a backlog from the spool) the post carries `X-Sabamon-Replay: 1`, which a
        sabamon server reads as leave to store points older than 24 h; Mackerel ignores it."""
        headers = {REPLAY_HEADER: "1"} if replay else None
        self.request("POST", "/api/v0/tsdb", values, extra_headers=headers)

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
