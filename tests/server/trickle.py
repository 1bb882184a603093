"""Hostile HTTP peers on loopback: one that trickles its answer a byte at a time, one
that serves an endless body. Raw sockets, so nothing buffers on their side."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def hostile_peer(kind: str, interval: float = 0.3) -> Iterator[str]:
    """Serves every connection as `kind` and yields its base URL:

    - "trickle": status line and headers, then one body byte every `interval` seconds;
    - "endless": a 200 with "needle" first, then megabytes of filler without end.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                if kind == "trickle":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                    while not stop.wait(interval):
                        conn.sendall(b"x")
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nneedle ")
                    filler = b"y" * (1024 * 1024)
                    while not stop.is_set():
                        conn.sendall(filler)
            except OSError:
                pass  # the client gave up: what the tests want

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
