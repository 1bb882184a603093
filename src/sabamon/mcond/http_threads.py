"""The blocking form's HTTP: a threaded listener and a parallel, time-bounded fan-out."""

from __future__ import annotations

import logging
import socket
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from sabamon.mcond.wire import Verdict, accepted, broadcast_path, judge, outgoing_headers

log = logging.getLogger(__name__)

# Called with the key and whether the call was itself a relay.
OnBroadcast = Callable[[str, bool], None]
READ_TIMEOUT_SECONDS = 10.0  # the Go original's http.Server ReadTimeout


class BroadcastListener(ThreadingHTTPServer):
    """Answers ``/cache/broadcast/<key>`` on any method; binds in the constructor."""

    daemon_threads = True

    def __init__(self, host: str, port: int, secret: str | None, on_broadcast: OnBroadcast):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.secret = secret
        self.on_broadcast = on_broadcast
        super().__init__((host, port), _BroadcastHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A peer that resets or times out a keep-alive connection is routine: one debug
        line. Anything else is a bug, logged with its traceback (not printed on stderr)."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            log.debug("event=mcond_connection_lost peer=%s error=%r", client_address[0], error)
        else:
            log.error("event=mcond_handler_failed peer=%s", client_address[0], exc_info=True)


class _BroadcastHandler(BaseHTTPRequestHandler):
    server: BroadcastListener
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_SECONDS

    def __getattr__(self, name: str) -> Any:
        # http.server looks up do_<METHOD>; the Go original answers every method alike.
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        verdict = judge(self.path, headers, self.server.secret, time.time())
        if verdict.key is not None:
            self.server.on_broadcast(verdict.key, verdict.relayed)
        self._send(verdict)

    def _send(self, verdict: Verdict) -> None:
        self.send_response(verdict.status)
        self.send_header("Content-Length", str(len(verdict.body)))
        if verdict.content_type:
            self.send_header("Content-Type", verdict.content_type)
        self.end_headers()
        if verdict.body and self.command != "HEAD":
            self.wfile.write(verdict.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("event=mcond_request peer=%s line=%r", self.client_address[0], format % args)


class PeerCaller:
    """Calls every peer at once; each call gets ``timeout`` seconds, never more."""

    def __init__(self, timeout: float, secret: str | None, max_workers: int = 16) -> None:
        self._timeout = timeout
        self._secret = secret
        # trust_env=False: a proxy from the environment must never see cluster calls.
        self._client = httpx.Client(timeout=timeout, trust_env=False)
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="mcond-fanout")

    def call_all(self, peers: Iterable[str], key: str, relayed: bool = False) -> set[str]:
        """Call ``peers`` in parallel; the peers that answered 200 within the timeout."""
        calls = {self._pool.submit(self.call, peer, key, relayed): peer for peer in peers}
        done, _ = wait(calls, timeout=self._timeout)
        return {calls[future] for future in done if future.result()}

    def submit_all(self, peers: Iterable[str], key: str, relayed: bool) -> None:
        """Call ``peers`` in the background, without waiting."""
        for peer in peers:
            self._pool.submit(self.call, peer, key, relayed)

    def call(self, peer: str, key: str, relayed: bool) -> bool:
        path = broadcast_path(key)
        headers = outgoing_headers(path, self._secret, relayed, time.time())
        try:
            response = self._client.get(f"http://{peer}{path}", headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            log.warning("event=mcond_broadcast_failed peer=%s key=%r error=%r", peer, key, error)
            return False
        return accepted(peer, key, response)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()
