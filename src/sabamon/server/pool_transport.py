"""An httpx transport over an httpcore connection pool that the caller builds.

httpx's `AsyncHTTPTransport` builds its own `httpcore.AsyncConnectionPool` and takes no
network backend (a parameter for it is proposed upstream, encode/httpx#3749, and not
released). httpcore's pool takes one through its public constructor (`network_backend=`,
httpcore's documented network backend API), and httpx's transport API
(`httpx.AsyncBaseTransport`) is public, so `PoolTransport` joins the two the way httpx's
own transport does: the request mapped to httpcore's, the response stream handed back, and
httpcore's exceptions raised as httpx's, so callers catch `httpx.HTTPError` as with any
other client.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager

import httpcore
import httpx

EXCEPTIONS: dict[type[Exception], type[httpx.HTTPError]] = {
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
}
"""httpcore's exceptions and httpx's of the same meaning (the table of httpx's transport)."""


@contextmanager
def as_httpx_errors() -> Iterator[None]:
    """Re-raises an httpcore exception as the httpx one of its nearest class."""
    try:
        yield
    except Exception as exc:
        for kind in type(exc).__mro__:
            if kind in EXCEPTIONS:
                raise EXCEPTIONS[kind](str(exc)) from exc
        raise


class ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self.stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with as_httpx_errors():
            async for part in self.stream:
                yield part

    async def aclose(self) -> None:
        """Hands the connection back to the pool (httpcore's stream has `aclose`)."""
        close = getattr(self.stream, "aclose", None)
        if close is not None:
            await close()


class PoolTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through `pool`; closing the transport closes the pool."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with as_httpx_errors():
            response = await self.pool.handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=ResponseStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()
