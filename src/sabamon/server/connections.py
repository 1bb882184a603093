"""Connection limits at the HTTP front: header deadline, header size, connections per address,
open connections, keep-alive idle time.

uvicorn's httptools protocol bounds an idle keep-alive connection (`timeout_keep_alive`,
set from `idle_timeout`: 75 s, so an agent posting once a minute, as mackerel-agent does,
reuses its connection instead of opening one per post) but not a connection that has
started a request and never finishes its headers (slowloris), nor how many connections one
client address or all clients hold. uvicorn takes its protocol class as a setting, so
`GuardedHttpToolsProtocol` extends the stock one with:

- a header deadline: from the moment a connection opens (or a keep-alive connection
  starts its next request) the request line and headers must be complete within
  `header_timeout` seconds, else 408 and the connection is closed; trickling bytes does
  not extend it;
- a header size limit: more than `max_header_bytes` before the headers end → 431, closed.
  It is measured twice: on the bytes received while the headers are still arriving (so a
  header block trickled in pieces never grows past it in the parser's buffer), and on the
  parsed request line and fields once they are complete (so a block that arrives in one
  read, with or without its body behind it, is measured too); the request never reaches
  the app;
- a cap per client address: a connection beyond `max_per_address` open from the same
  address is answered 503 + Retry-After and closed before anything is read;
- a cap on pipelined requests: uvicorn parses every request of a read (up to 256 KiB) and
  queues those behind the one being answered, about 7 bytes of memory per byte sent; a
  connection with more than `max_pipelined` waiting is answered 429 and closed;
- a cap on open connections: when a new connection would make more than `max_connections`
  open, the oldest connection whose request headers have been incomplete for a second is closed
  (408), else the connection idle longest between keep-alive requests, to make room
  (an agent whose idle connection is closed opens a new one at its next post); with none
  idle, the new one is answered 503 + Retry-After and closed. So idle connections kept for
  a minute never cost the server a new client, and the open files stay below the process's
  limit (`within_open_files`), where accepting would fail with EMFILE.

A refusal made while the request is still arriving (431, 429) is followed by a lingering
close, as nginx's `lingering_close`: the answer is sent with the end of the server's side
(FIN), and what the client still sends is read and dropped for up to `LINGER_SECONDS` (and
`LINGER_BYTES`) or until it closes. Closing with unread input makes the kernel reset the
connection, and a reset may reach the client before it has read the answer, which it then
never sees.

The body has its own deadline in `sabamon.server.api.limits.RequestBody`. The bounds hold
per worker process. Hypercorn and Granian were not needed: this class keeps uvicorn's
parser and measured ingest (bench/ingest.py, README "Performance").
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from sabamon.server.api.limits import BODY_TIMEOUT

log = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 10.0
STALLED_HEADERS = 1.0
"""Seconds a new connection may go without a complete request line and headers before, at
`max_connections`, it is the first to make room for another (a real client sends them at
once)."""
RESERVED_FILES = 256
"""Open files a worker keeps out of `max_connections`: its store, logs, /metrics files and
outbound connections (webhooks, mail, external monitors)."""


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float = 10.0
    """Seconds from a request's first byte (or the connection's opening) to its headers' end."""
    body_timeout: float = BODY_TIMEOUT
    """Seconds from a request's headers' end to its body's end (`RequestBody`)."""
    max_header_bytes: int = 64 * 1024
    max_per_address: int = 256
    """Open connections one client address may hold, per worker process."""
    max_pipelined: int = 32
    """Requests one connection may have waiting behind the one being answered."""
    idle_timeout: int = 75
    """Seconds a keep-alive connection may wait for its next request: above the minute
    between an agent's posts, so the next post reuses the connection."""
    max_connections: int = 10_000
    """Open connections per worker process; beyond it the longest idle one is closed, or
    with none idle the new one is refused (see the module docstring)."""

    def __post_init__(self) -> None:
        if not (self.header_timeout > 0 and self.body_timeout > 0 and self.idle_timeout > 0):
            raise ValueError(
                "header_timeout, body_timeout and idle_timeout: must be above 0 seconds"
            )
        if self.max_header_bytes < 1024 or self.max_per_address < 1 or self.max_connections < 1:
            raise ValueError(
                "max_header_bytes: at least 1024; max_per_address and max_connections: at least 1"
            )

    def within_open_files(self, open_files: int) -> ConnectionLimits:
        """These limits with `max_connections` at most `open_files` (the process's limit)
        less `RESERVED_FILES`, at least 1."""
        most = max(1, open_files - RESERVED_FILES)
        return replace(self, max_connections=min(self.max_connections, most))


def raw_response(status: str, message: str, *extra: bytes) -> bytes:
    """A complete HTTP/1.1 response with the API's error body that closes the connection."""
    body = orjson.dumps({"error": {"message": message}})
    head = [
        b"HTTP/1.1 " + status.encode(),
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
        *extra,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


REQUEST_TIMEOUT = raw_response("408 Request Timeout", "The request headers took too long.")
HEADERS_TOO_LARGE = raw_response(
    "431 Request Header Fields Too Large", "The request headers are too large."
)
TOO_MANY_PIPELINED = raw_response(
    "429 Too Many Requests",
    "Too many pipelined requests waiting on one connection.",
)
TOO_MANY_CONNECTIONS = raw_response(
    "503 Service Unavailable",
    "Too many connections from this address; retry after a while.",
    b"retry-after: 5",
)
SERVER_FULL = raw_response(
    "503 Service Unavailable",
    "The server has as many connections open as it takes, none idle; retry after a while.",
    b"retry-after: 5",
)


def parsed_header_bytes(target: bytes, fields: list[tuple[bytes, bytes]]) -> int:
    """The size in bytes of a request line with `target` and of its header `fields` as
    written on the wire with single spaces (`GET <target> HTTP/1.1`, `name: value`, CRLFs),
    the method counted at its longest standard length (7, OPTIONS/CONNECT)."""
    request_line = len(b"OPTIONS  HTTP/1.1\r\n") + len(target)
    return request_line + sum(len(name) + len(value) + 4 for name, value in fields) + 2


class RefusalLog:
    """One warning line per kind of refusal per interval, with the count since the last."""

    def __init__(self, interval: float = LOG_EVERY_SECONDS) -> None:
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self.last: dict[str, float] = {}

    def note(self, kind: str, client: str) -> None:
        self.counts[kind] += 1
        now = time.monotonic()
        if now - self.last.get(kind, -math.inf) >= self.interval:
            log.warning(
                "event=connection_refused reason=%s client=%s count=%d",
                kind,
                client,
                self.counts[kind],
            )
            self.last[kind] = now
            self.counts[kind] = 0


LINGER_SECONDS = 2.0
"""After a refusal with input still arriving: how long that input is read and dropped."""
LINGER_BYTES = 1 << 20
"""... and how much of it, at most, before the connection is closed anyway."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with `ConnectionLimits` (see the module docstring)."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()
    """This process's limits: the app factory sets them from the server's settings
    (uvicorn makes one protocol object per connection and passes it nothing)."""
    open_per_address: ClassVar[Counter[str]] = Counter()
    """Open connections per client address in this worker process."""
    open_connections: ClassVar[int] = 0
    """Open connections in this worker process."""
    idle: ClassVar[dict[GuardedHttpToolsProtocol, None]] = {}
    """Connections waiting for their next keep-alive request, longest idle first."""
    unserved: ClassVar[dict[GuardedHttpToolsProtocol, float]] = {}
    """Connections whose request line and headers have started and are not complete,
    oldest first: since when (monotonic s)."""
    refusals = RefusalLog()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timer: asyncio.TimerHandle | None = None
        self.header_bytes = 0
        self.in_headers = True
        self.address = ""
        self.answering: RequestResponseCycle | None = None
        self.refused = False
        self.lingered = 0
        self.linger_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.address = self.client[0] if self.client else ""
        self.open_per_address[self.address] += 1
        GuardedHttpToolsProtocol.open_connections += 1
        if self.open_per_address[self.address] > self.limits.max_per_address:
            self.refusals.note("per_address", self.address)
            self.refuse(TOO_MANY_CONNECTIONS)
            return
        if self.open_connections > self.limits.max_connections and not self.make_room():
            self.refusals.note("max_connections", self.address)
            self.refuse(SERVER_FULL)
            return
        self.start_headers()

    def make_room(self) -> bool:
        """Closes one connection for this new one; False when none may go. First the oldest
        whose request headers have been incomplete for `STALLED_HEADERS` seconds (a client
        that opens connections and sends nothing, or trickles, would otherwise fill the
        cap and push out agents' keep-alive connections); then the one idle longest
        between keep-alive requests, as uvicorn's keep-alive timeout would. The closed one
        leaves `open_connections` when its close is seen (`connection_lost`)."""
        oldest = next(iter(self.unserved.items()), None)
        if oldest is not None and time.monotonic() - oldest[1] >= STALLED_HEADERS:
            del self.unserved[oldest[0]]  # counted as room made once only
            self.refusals.note("stalled_at_cap", oldest[0].address)
            oldest[0].refuse(REQUEST_TIMEOUT)
            return True
        if not self.idle:
            return False
        longest = next(iter(self.idle))
        del self.idle[longest]
        longest.transport.close()
        return True

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # waiting for the next request
            self.idle[self] = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.cancel_header_timer()
        if self.linger_timer is not None:
            self.linger_timer.cancel()
        self.idle.pop(self, None)
        self.unserved.pop(self, None)
        GuardedHttpToolsProtocol.open_connections -= 1
        left = self.open_per_address[self.address] - 1
        if left > 0:
            self.open_per_address[self.address] = left
        else:
            self.open_per_address.pop(self.address, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:  # lingering: the rest of a refused request, dropped
            self.lingered += len(data)
            if self.lingered > LINGER_BYTES:
                self.transport.close()
            return
        self.idle.pop(self, None)
        if self.in_headers:
            if self.header_timer is None:  # the next request on a keep-alive connection
                self.start_headers()
            self.header_bytes += len(data)
        super().data_received(data)
        # checked after parsing: one read may carry the headers' end and the body with them
        if self.in_headers and self.header_bytes > self.limits.max_header_bytes:
            self.refusals.note("header_size", self.address)
            self.refuse(HEADERS_TOO_LARGE, linger=True)

    def on_headers_complete(self) -> None:
        self.in_headers = False
        self.unserved.pop(self, None)
        self.cancel_header_timer()
        if self.closing():
            return  # refused earlier in this read; later pipelined requests are not run
        if parsed_header_bytes(self.url, self.headers) > self.limits.max_header_bytes:
            self.refusals.note("header_size", self.address)
            self.refuse(HEADERS_TOO_LARGE, linger=True)
            return
        super().on_headers_complete()
        if len(self.pipeline) > self.limits.max_pipelined:
            self.refusals.note("pipelined", self.address)
            self.refuse(TOO_MANY_PIPELINED, linger=True)

    def on_body(self, body: bytes) -> None:
        if not self.closing():
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self.closing():
            return
        super().on_message_complete()
        self.in_headers = True
        self.header_bytes = 0

    def start_headers(self) -> None:
        self.unserved[self] = time.monotonic()
        self.header_timer = self.loop.call_later(self.limits.header_timeout, self.headers_late)

    def cancel_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def headers_late(self) -> None:
        self.header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            self.start_headers()  # a pipelined request waits for the one being answered
            return
        if self.in_headers and not self.closing():
            self.refusals.note("header_timeout", self.address)
            self.refuse(REQUEST_TIMEOUT)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        self.answering = cycle  # `self.cycle` is the newest parsed, maybe still queued
        super()._start_asgi_task(cycle, app)

    def closing(self) -> bool:
        """Refused (maybe lingering) or closing: nothing more of it is run."""
        return self.refused or self.transport.is_closing()

    def refuse(self, response: bytes, linger: bool = False) -> None:
        """Answers `response` and closes, at once or, with `linger`, after the lingering
        close (module docstring). A request being answered meanwhile is marked
        disconnected, so its app drops its answer (uvloop raises on a write to a closed
        transport), and the requests queued behind it are dropped."""
        self.cancel_header_timer()
        if self.answering is not None and not self.answering.response_complete:
            self.answering.disconnected = True
            self.answering.message_event.set()
        self.pipeline.clear()
        if self.closing():
            return
        self.refused = True
        self.unserved.pop(self, None)  # no longer a candidate for `make_room`
        self.idle.pop(self, None)
        self.transport.write(response)
        if linger and self.transport.can_write_eof():
            self.flow.resume_reading()  # uvicorn pauses reading behind pipelined requests
            self.transport.write_eof()
            self.linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()
