"""A lean HTTP/1.1 client for the load generator: keep-alive connections, one request
at a time on each, Content-Length bodies only.

The bench shares the machine's cores with the server it measures, so every microsecond
the generator spends is taken from the server. An httpx request costs several times the
CPU of writing a prepared request to a socket and reading a Content-Length answer, which
is all a simulated agent needs (sabamon's server never answers chunked on these routes).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit


class ProtocolError(Exception):
    """The server's answer was not an HTTP/1.1 response this client can read."""


class ClosedBeforeAnswer(ConnectionResetError):
    """The connection closed before the first byte of the answer."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    base_path: str

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"--url {url!r}: expected http://HOST[:PORT][/PATH]")
        return cls(parts.hostname, parts.port or 80, parts.path.rstrip("/"))


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        try:
            return max(0.0, float(value)) if value is not None else None
        except ValueError:
            return None


class Connection:
    def __init__(self, endpoint: Endpoint, headers: dict[str, str]) -> None:
        self.endpoint = endpoint
        fixed = {"Host": f"{endpoint.host}:{endpoint.port}", **headers}
        self._fixed_headers = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"") -> Answer:
        """Sends one request and reads its answer; the connection is reopened when the
        server closed it. A reused keep-alive connection that turns out closed before any
        byte of the answer (the server's idle timeout raced the request) is reopened and the
        request sent again once, as mature HTTP clients do: the server never saw it. Any
        other failure closes the connection and raises."""
        reused = self._writer is not None and not self._writer.is_closing()
        try:
            return await self._request_once(method, path, body)
        except ClosedBeforeAnswer:
            if not reused:
                raise
        return await self._request_once(method, path, body)

    async def _request_once(self, method: str, path: str, body: bytes) -> Answer:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(
                self.endpoint.host, self.endpoint.port
            )
        assert self._reader is not None
        head = (
            f"{method} {self.endpoint.base_path}{path} HTTP/1.1\r\n".encode()
            + self._fixed_headers
            + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        try:
            try:
                self._writer.write(head + body)
                await self._writer.drain()
            except (BrokenPipeError, ConnectionResetError) as error:
                raise ClosedBeforeAnswer("the server closed the connection") from error
            answer = await read_answer(self._reader)
        except BaseException:
            self.close()
            raise
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            raise ClosedBeforeAnswer("the server closed the connection") from error
        raise ConnectionResetError("the server closed the connection mid-answer") from error
    except ConnectionResetError as error:  # a reset with nothing read
        raise ClosedBeforeAnswer("the server reset the connection") from error
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise ProtocolError(f"bad status line {status_line!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", ""):
        raise ProtocolError("chunked responses are not supported by the bench client")
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return Answer(int(rest[:3]), headers, body)
