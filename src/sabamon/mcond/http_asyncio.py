"""The asyncio form's HTTP: an h11 listener on asyncio streams and a parallel fan-out.

h11 (already installed with httpx) parses the requests, so keep-alive, bodies and bad
input are handled by a well-kept library rather than by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

import h11
import httpx

from sabamon.mcond.wire import Verdict, accepted, broadcast_path, judge, outgoing_headers

log = logging.getLogger(__name__)

OnBroadcast = Callable[[str, bool], None]
READ_TIMEOUT_SECONDS = 10.0  # the Go original's http.Server ReadTimeout
MAX_HEADER_BYTES = 1 << 20  # the Go original's MaxHeaderBytes


class AsyncBroadcastListener:
    """Answers ``/cache/broadcast/<key>`` on any method, on the running event loop."""

    def __init__(self, secret: str | None, on_broadcast: OnBroadcast) -> None:
        self._secret = secret
        self._on_broadcast = on_broadcast
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> int:
        """Bind now (so a taken port fails here) and return the bound port."""
        self._server = await asyncio.start_server(self._serve_connection, host or None, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._connections):
            writer.close()
        await self._server.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._connections.add(writer)
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        request: h11.Request | None = None
        try:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    data = await asyncio.wait_for(reader.read(65536), READ_TIMEOUT_SECONDS)
                    connection.receive_data(data)
                elif isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.EndOfMessage) and request is not None:
                    writer.write(self._respond(connection, request))
                    await writer.drain()
                    if connection.our_state is not h11.DONE:
                        break
                    connection.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                    break
        except h11.RemoteProtocolError as error:
            log.info("event=mcond_bad_request error=%r", error)
            if connection.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                response = h11.Response(status_code=400, headers=[("content-length", "0")])
                with contextlib.suppress(h11.LocalProtocolError):
                    writer.write(connection.send(response) + connection.send(h11.EndOfMessage()))
        except (TimeoutError, ConnectionError) as error:
            peer = writer.get_extra_info("peername")
            log.debug("event=mcond_connection_lost peer=%s error=%r", peer, error)
        finally:
            self._connections.discard(writer)
            writer.close()

    def _respond(self, connection: h11.Connection, request: h11.Request) -> bytes:
        headers = {
            name.decode().lower(): value.decode("latin-1") for name, value in request.headers
        }
        verdict = judge(request.target.decode("latin-1"), headers, self._secret, time.time())
        if verdict.key is not None:
            self._on_broadcast(verdict.key, verdict.relayed)
        return self._encode(connection, verdict, send_body=request.method != b"HEAD")

    @staticmethod
    def _encode(connection: h11.Connection, verdict: Verdict, send_body: bool) -> bytes:
        headers = [("content-length", str(len(verdict.body)))]
        if verdict.content_type:
            headers.append(("content-type", verdict.content_type))
        out = connection.send(h11.Response(status_code=verdict.status, headers=headers)) or b""
        if verdict.body and send_body:
            out += connection.send(h11.Data(data=verdict.body)) or b""
        return out + (connection.send(h11.EndOfMessage()) or b"")


class AsyncPeerCaller:
    """Calls every peer at once; each call gets ``timeout`` seconds, never more."""

    def __init__(self, timeout: float, secret: str | None) -> None:
        self._timeout = timeout
        self._secret = secret
        # trust_env=False: a proxy from the environment must never see cluster calls.
        self._client = httpx.AsyncClient(timeout=timeout, trust_env=False)
        self._background: set[asyncio.Task[bool]] = set()

    async def call_all(self, peers: Iterable[str], key: str, relayed: bool = False) -> set[str]:
        """Call ``peers`` in parallel; the peers that answered 200 within the timeout."""
        peer_list = list(peers)
        answers = await asyncio.gather(*(self._bounded_call(p, key, relayed) for p in peer_list))
        return {peer for peer, ok in zip(peer_list, answers, strict=True) if ok}

    def submit_all(self, peers: Iterable[str], key: str, relayed: bool) -> None:
        """Call ``peers`` in the background, without waiting."""
        for peer in peers:
            task = asyncio.create_task(self._bounded_call(peer, key, relayed))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _bounded_call(self, peer: str, key: str, relayed: bool) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._call(peer, key, relayed)
        except TimeoutError:
            log.warning("event=mcond_broadcast_timed_out peer=%s key=%r", peer, key)
            return False

    async def _call(self, peer: str, key: str, relayed: bool) -> bool:
        path = broadcast_path(key)
        headers = outgoing_headers(path, self._secret, relayed, time.time())
        try:
            response = await self._client.get(f"http://{peer}{path}", headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            log.warning("event=mcond_broadcast_failed peer=%s key=%r error=%r", peer, key, error)
            return False
        return accepted(peer, key, response)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self._client.aclose()
