"""AsyncMCond, the asyncio form: coroutines wait, an h11 listener on the loop wakes them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from types import TracebackType

from sabamon.mcond.http_asyncio import AsyncBroadcastListener, AsyncPeerCaller
from sabamon.mcond.option import MCondOption, split_host_port
from sabamon.mcond.signals import WakeSignals
from sabamon.mcond.state import AsyncRedisState, AsyncStateStore, MCondStateError

log = logging.getLogger(__name__)


class AsyncMCond:
    """The asyncio twin of :class:`sabamon.mcond.MCond`; use it from one event loop."""

    def __init__(
        self, option: MCondOption | None = None, state: AsyncStateStore | None = None
    ) -> None:
        self.option = option or MCondOption()
        self._listen_host, self._listen_port = split_host_port(self.option.addr, "addr")
        self._state = state or AsyncRedisState(self.option)
        self._signals = WakeSignals(asyncio.Event)
        self._peers: tuple[str, ...] = ()
        self._caller = AsyncPeerCaller(self.option.peer_timeout, self.option.secret)
        self._listener: AsyncBroadcastListener | None = None
        self._bound_port: int | None = None

    @property
    def address(self) -> str:
        """Where this node listens, with the real port once started (``addr`` may say 0)."""
        return f"{self._listen_host}:{self._bound_port or self._listen_port}"

    @property
    def peers(self) -> tuple[str, ...]:
        return self._peers

    def add_cond(self, key: str) -> None:
        self._signals.register(key)

    def add_host(self, peer: str) -> None:
        """Add a peer ``host:port`` to broadcast to (once)."""
        split_host_port(peer, "peer")
        if peer not in self._peers:
            self._peers = (*self._peers, peer)

    async def clear(self) -> None:
        """Delete the Redis state of every key registered on this node."""
        await self._state.clear(self._signals.keys())

    async def add_processing(self, key: str) -> None:
        await self._state.add_processing(key)

    async def add_completed(self, key: str) -> None:
        await self._state.add_completed(key)

    def broadcast_self(self, key: str) -> None:
        self._signals.wake(key)

    def woken(self, key: str) -> asyncio.Event:
        """The event the next broadcast of ``key`` sets here, from this node or a peer
        (registers ``key``); take it before looking for the work a broadcast announces."""
        self._signals.register(key)
        return self._signals.current(key)

    async def broadcast(self, key: str) -> set[str]:
        """Wake local waiters, then every peer in parallel; the peers that answered 200."""
        self._signals.wake(key)
        return await self._caller.call_all(self._peers, key)

    async def wait_for_available(self, key: str, timeout: float | None = None) -> bool:
        """Wait until ``key`` is complete and not processing; False after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            woken = self._signals.current(key)
            if await self._available(key):
                return True
            wait = self.option.poll_interval
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                wait = min(wait, remaining)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), wait)

    async def _available(self, key: str) -> bool:
        try:
            return await self._state.available(key)
        except MCondStateError as error:
            log.warning("event=mcond_state_unreadable key=%r error=%s", key, error)
            return False

    def _on_broadcast(self, key: str, relayed: bool) -> None:
        self._signals.wake(key)
        if self.option.relay and not relayed:
            self._caller.submit_all(self._peers, key, relayed=True)

    async def start(self) -> None:
        """Listen for wake-ups; a taken port raises here, not later."""
        if self._listener is not None:
            raise RuntimeError(f"mcond already listening on {self.address}")
        listener = AsyncBroadcastListener(self.option.secret, self._on_broadcast)
        self._bound_port = await listener.start(self._listen_host, self._listen_port)
        self._listener = listener
        log.info("event=mcond_listening addr=%s", self.address)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
        await self._caller.close()
        await self._state.close()

    async def __aenter__(self) -> AsyncMCond:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
