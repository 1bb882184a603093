"""Request limits: body size and read deadline, no NUL in the URL.

`RequestBody` reads a request's whole body before anything inside it runs, so a client
that declares a body and sends it slowly (or never) is only a waiting connection: it is
not yet "in flight" for the load shedder and holds no store work. Bodies are bounded
anyway (`limit` bytes), and routes read them whole, so buffering here costs no memory
that the route would not have spent.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sabamon.server.api.errors import error_response

MAX_BODY_BYTES = 8 * 1024 * 1024
BODY_TIMEOUT = 30.0
"""Seconds a client has, from its headers' end, to send the whole body."""


def too_large_message(limit: int) -> str:
    return f"Request body is larger than {limit} bytes."


async def request_timeout(timeout: float, scope: Scope, receive: Receive, send: Send) -> None:
    """408, closing the connection: the rest of a stalled body is never coming."""
    response = error_response(408, f"The request body did not arrive within {timeout:g} s.")
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


class RequestBody:
    """ASGI middleware: reads the body within `timeout` seconds (else 408) and at most
    `limit` bytes (else 413), then runs the app with that body.

    A declared Content-Length over the limit is refused before the body is read.
    """

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, timeout: float = BODY_TIMEOUT
    ) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            # PostgreSQL cannot store or compare NUL; refuse it before any route sees it
            await error_response(400, "path: must not contain NUL characters")(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    too_large = error_response(413, too_large_message(self.limit))
                    await too_large(scope, receive, send)
                    return
        chunks: list[bytes] = []
        received = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return  # the client went away
                    chunk = message.get("body", b"")
                    received += len(chunk)
                    if received > self.limit:
                        too_large = error_response(413, too_large_message(self.limit))
                        await too_large(scope, receive, send)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await request_timeout(self.timeout, scope, receive, send)
            return
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        replayed = False

        async def receive_buffered() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # waits for the client's disconnect, as ASGI says
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, receive_buffered, send)
