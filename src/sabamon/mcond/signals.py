"""Local wake-ups per key, free of the lost-wake-up race of the Go original.

Each registered key holds an event. A wake sets it and puts a fresh one in its place. A
waiter takes the current event *before* it checks Redis, so a wake that lands between
the check and the wait has already set the event it is about to wait on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class UnknownKeyError(LookupError):
    """Waiting on a key that was never registered with ``add_cond``."""


class _Settable(Protocol):
    def set(self) -> None: ...


EventT = TypeVar("EventT", bound=_Settable)


class WakeSignals(Generic[EventT]):
    """Per-key events; ``threading.Event`` for threads, ``asyncio.Event`` for a loop."""

    def __init__(self, new_event: Callable[[], EventT]) -> None:
        self._new_event = new_event
        self._lock = threading.Lock()
        self._events: dict[str, EventT] = {}

    def register(self, key: str) -> None:
        with self._lock:
            if key not in self._events:
                self._events[key] = self._new_event()

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._events)

    def current(self, key: str) -> EventT:
        """The event the next wake of ``key`` sets."""
        with self._lock:
            event = self._events.get(key)
        if event is None:
            raise UnknownKeyError(f"mcond key {key!r} is not registered; call add_cond first")
        return event

    def wake(self, key: str) -> bool:
        """Wake every waiter on ``key``; False when the key is not registered here."""
        with self._lock:
            event = self._events.get(key)
            if event is None:
                return False
            self._events[key] = self._new_event()
        event.set()
        return True
