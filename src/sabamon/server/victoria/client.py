"""The HTTP client of VictoriaMetrics' import, query, export and admin APIs.

Every request is bounded: a connect deadline, a whole-request deadline (`write_timeout` for
imports, `read_timeout` for queries), a response size cap (`max_response_bytes`, read in a
stream and abandoned past it) and its own connection pool (`max_connections`), so a slow
or hostile VictoriaMetrics costs only the requests waiting on it.

    SeriesStoreError            VictoriaMetrics refused a request (a 4xx): a bug or a limit
    └── SeriesStoreUnavailable  down, slow, overloaded (connection error, deadline, 5xx,
                                429): the API answers 503 + Retry-After and nothing is lost
    (both from `store/series_store.py`)

A 2xx from an import means VictoriaMetrics has the samples in its in-memory buffers: they
become searchable within about a second and are written to disk within a few seconds
(README "Storage" of VictoriaMetrics); an unclean stop of VictoriaMetrics may lose those
last seconds. That is its acknowledgement, and sabamon's 200 to an agent waits for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from sabamon.server.store.series_store import SeriesStoreError, SeriesStoreUnavailable
from sabamon.server.victoria.endpoints import Endpoints


@dataclass(frozen=True)
class ClientLimits:
    """Deadlines in seconds, sizes in bytes."""

    connect_timeout: float = 2.0
    write_timeout: float = 10.0
    read_timeout: float = 10.0
    max_connections: int = 16
    max_response_bytes: int = 64 * 1024 * 1024


_ERROR_TEXT = 300  # bytes of an error answer kept in the message


class VictoriaClient:
    """One connection pool to one VictoriaMetrics (or one vminsert and one vmselect)."""

    def __init__(
        self,
        endpoints: Endpoints,
        limits: ClientLimits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.limits = limits or ClientLimits()
        pool = httpx.Limits(
            max_connections=self.limits.max_connections,
            max_keepalive_connections=self.limits.max_connections,
        )
        timeout = httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout)
        self._http = httpx.AsyncClient(
            limits=pool, timeout=timeout, transport=transport, trust_env=False
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(
        self, method: str, url: str, deadline: float, **kwargs: Any
    ) -> bytes:  # fmt: skip
        """The body of a 2xx answer; raises SeriesStoreUnavailable or SeriesStoreError."""
        what = f"{method} {url}"
        try:
            async with asyncio.timeout(deadline):
                async with self._http.stream(method, url, **kwargs) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > self.limits.max_response_bytes:
                            raise SeriesStoreError(
                                f"{what}: answer over {self.limits.max_response_bytes} bytes"
                            )
        except TimeoutError as exc:
            raise SeriesStoreUnavailable(f"{what}: no answer within {deadline:g} s") from exc
        except httpx.HTTPError as exc:
            raise SeriesStoreUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status < 300:
            return bytes(body)
        text = bytes(body[:_ERROR_TEXT]).decode(errors="replace").strip()
        if status >= 500 or status == 429:
            raise SeriesStoreUnavailable(f"{what}: {status} {text}")
        raise SeriesStoreError(f"{what}: {status} {text}")

    async def import_prometheus(self, body: bytes) -> None:
        """Imports Prometheus text lines; returns once VictoriaMetrics answered 2xx."""
        await self._send(
            "POST",
            self.endpoints.import_prometheus,
            self.limits.write_timeout,
            content=body,
            headers={"Content-Type": "text/plain"},
        )

    async def _data(self, url: str, form: dict[str, Any]) -> Any:
        """The `data` of a Prometheus-API JSON answer to a form POST."""
        body = await self._send("POST", url, self.limits.read_timeout, data=form)
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise SeriesStoreError(f"POST {url}: not JSON: {body[:_ERROR_TEXT]!r}") from exc
        if not isinstance(answer, dict) or answer.get("status") != "success":
            raise SeriesStoreError(f"POST {url}: {str(answer)[:_ERROR_TEXT]}")
        return answer.get("data")

    async def query_range(
        self, query: str, start: int, end: int, step: int, *, cache: bool = False
    ) -> list[dict[str, Any]]:
        """The matrix of `query` at start, start+step, … ≤ end (seconds), with no latency
        offset (fresh points must show). VictoriaMetrics' response cache only with `cache`:
        a late or rewritten point must show, and the cache keeps steps older than its
        `-search.cacheTimestampOffset` (5 min) until an old sample arrives."""
        form = {
            "query": query,
            "start": start,
            "end": end,
            "step": f"{step}s",
            "latency_offset": "0s",
        }
        if not cache:
            form["nocache"] = "1"
        data = await self._data(self.endpoints.query_range, form)
        return list(data.get("result", []))

    async def query(self, query: str, at: int) -> list[dict[str, Any]]:
        """The instant vector of `query` at `at` (seconds)."""
        form = {"query": query, "time": at, "nocache": "1", "latency_offset": "0s"}
        data = await self._data(self.endpoints.query, form)
        return list(data.get("result", []))

    async def series(self, match: str, start: int, end: int) -> list[dict[str, str]]:
        """The label sets of the series matching `match` with samples in [start, end]."""
        data = await self._data(
            self.endpoints.series, {"match[]": match, "start": start, "end": end}
        )
        return list(data)

    async def export(self, match: str, start: float, end: float) -> list[dict[str, Any]]:
        """Raw samples of the series matching `match` in [start, end] (seconds), one dict
        per series: {"metric": labels, "values": [...], "timestamps": [ms, ...]}."""
        form = {"match[]": match, "start": f"{start:.3f}", "end": f"{end:.3f}"}
        body = await self._send("POST", self.endpoints.export, self.limits.read_timeout, data=form)
        try:
            return [orjson.loads(line) for line in body.splitlines() if line]
        except orjson.JSONDecodeError as exc:
            raise SeriesStoreError(f"POST {self.endpoints.export}: bad JSON line: {exc}") from exc

    async def delete_series(self, match: str) -> None:
        """Deletes every series matching `match` (all their samples)."""
        await self._send(
            "POST", self.endpoints.delete_series, self.limits.write_timeout, data={"match[]": match}
        )

    async def flags(self) -> dict[str, str]:
        """The reading component's flags, from its `/flags` page (`-name="value"` lines)."""
        body = await self._send("GET", self.endpoints.flags, self.limits.read_timeout)
        flags = {}
        for line in body.decode(errors="replace").splitlines():
            name, sep, value = line.partition("=")
            if sep:
                flags[name.lstrip("-")] = value.strip().strip('"')
        return flags

    async def healthy(self) -> bool:
        """True when every component answers /health with 2xx within the connect deadline."""
        try:
            for url in self.endpoints.health:
                await self._send("GET", url, self.limits.connect_timeout)
        except SeriesStoreError:
            return False
        return True
