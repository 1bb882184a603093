"""Request limits: body size (on Content-Length and while reading), no NUL in the URL."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sabamon.server.api.errors import PayloadTooLarge, error_response

MAX_BODY_BYTES = 8 * 1024 * 1024


def too_large_message(limit: int) -> str:
    return f"Request body is larger than {limit} bytes."


class BodySizeLimit:
    """ASGI middleware: 413 for a body over `limit` bytes.

    A declared Content-Length over the limit is refused before the body is read; a body
    that grows past it while streaming (chunked) raises `PayloadTooLarge` from `receive`,
    which the route's error handler renders.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

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
                    await error_response(413, too_large_message(self.limit))(scope, receive, send)
                    return
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise PayloadTooLarge(too_large_message(self.limit))
            return message

        await self.app(scope, receive_limited, send)
