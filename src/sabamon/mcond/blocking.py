"""MCond, the blocking form: threads wait, a threaded HTTP listener wakes them."""

from __future__ import annotations

import functools
import logging
import threading
import time
from types import TracebackType

from sabamon.mcond.http_threads import BroadcastListener, PeerCaller
from sabamon.mcond.option import MCondOption, split_host_port
from sabamon.mcond.signals import WakeSignals
from sabamon.mcond.state import MCondStateError, RedisState, StateStore

log = logging.getLogger(__name__)

# How often the listener thread checks for close(); close() waits up to this long.
SHUTDOWN_POLL_SECONDS = 0.1


class MCond:
    """A condition variable shared by processes: state in Redis, wake-ups over HTTP.

    Wire-compatible with y-matsuwitter/mcond. A waiter re-checks Redis at least every
    ``poll_interval`` seconds, so a lost wake-up costs at most that long.
    """

    def __init__(self, option: MCondOption | None = None, state: StateStore | None = None):
        self.option = option or MCondOption()
        self._listen_host, self._listen_port = split_host_port(self.option.addr, "addr")
        self._state = state or RedisState(self.option)
        self._signals = WakeSignals(threading.Event)
        self._peers: tuple[str, ...] = ()
        self._peers_lock = threading.Lock()
        self._caller = PeerCaller(self.option.peer_timeout, self.option.secret)
        self._listener: BroadcastListener | None = None

    @property
    def address(self) -> str:
        """Where this node listens, with the real port once started (``addr`` may say 0)."""
        port = self._listener.port if self._listener else self._listen_port
        return f"{self._listen_host}:{port}"

    @property
    def peers(self) -> tuple[str, ...]:
        return self._peers

    def add_cond(self, key: str) -> None:
        self._signals.register(key)

    def add_host(self, peer: str) -> None:
        """Add a peer ``host:port`` to broadcast to (once)."""
        split_host_port(peer, "peer")
        with self._peers_lock:
            if peer not in self._peers:
                self._peers = (*self._peers, peer)

    def clear(self) -> None:
        """Delete the Redis state of every key registered on this node."""
        self._state.clear(self._signals.keys())

    def add_processing(self, key: str) -> None:
        self._state.add_processing(key)

    def add_completed(self, key: str) -> None:
        self._state.add_completed(key)

    def broadcast_self(self, key: str) -> None:
        self._signals.wake(key)

    def broadcast(self, key: str) -> set[str]:
        """Wake local waiters, then every peer in parallel; the peers that answered 200."""
        self._signals.wake(key)
        return self._caller.call_all(self._peers, key)

    def wait_for_available(self, key: str, timeout: float | None = None) -> bool:
        """Block until ``key`` is complete and not processing; False after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            woken = self._signals.current(key)
            if self._available(key):
                return True
            wait = self.option.poll_interval
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                wait = min(wait, remaining)
            woken.wait(wait)

    def _available(self, key: str) -> bool:
        try:
            return self._state.available(key)
        except MCondStateError as error:
            log.warning("event=mcond_state_unreadable key=%r error=%s", key, error)
            return False

    def _on_broadcast(self, key: str, relayed: bool) -> None:
        self._signals.wake(key)
        if self.option.relay and not relayed:
            self._caller.submit_all(self._peers, key, relayed=True)

    def start(self) -> None:
        """Listen for wake-ups; a taken port raises here, not later."""
        if self._listener is not None:
            raise RuntimeError(f"mcond already listening on {self.address}")
        listener = BroadcastListener(
            self._listen_host, self._listen_port, self.option.secret, self._on_broadcast
        )
        self._listener = listener
        serve = functools.partial(listener.serve_forever, poll_interval=SHUTDOWN_POLL_SECONDS)
        threading.Thread(target=serve, name="mcond-listener", daemon=True).start()
        log.info("event=mcond_listening addr=%s", self.address)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.shutdown()
            self._listener.server_close()
        self._caller.close()
        self._state.close()

    def __enter__(self) -> MCond:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
