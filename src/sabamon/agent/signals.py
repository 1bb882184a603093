"""The main thread's one wait: signals arrive as bytes on a pipe, so it sleeps in a single
read until a signal comes or another thread calls `wake()` — no polling loop.

    with SignalPipe((signal.SIGTERM, signal.SIGHUP)) as signals:
        for signum in signals.wait():   # blocks; 0 is a `wake()` from another thread
            ...

The Python handlers do nothing: CPython writes each caught signal's number to the pipe
(`signal.set_wakeup_fd`) and the loop reading it decides, outside any handler, what the signal
means (uvicorn's handlers only set flags for the same reason). Must be used from the main
thread, as `signal.signal` requires.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable
from types import FrameType, TracebackType
from typing import Any

WAKE = 0  # no signal has the number 0


def _note(signum: int, frame: FrameType | None) -> None:
    """The handler: the number already reached the pipe."""


class SignalPipe:
    def __init__(self, signals: Iterable[int]) -> None:
        """Catches `signals`; OSError or ValueError (a signal that cannot be caught, not
        the main thread) leaves the handlers as they were and no descriptor open."""
        self.signals = tuple(signals)
        self._read, self._write = os.pipe()
        self._handlers: dict[int, Any] = {}
        try:
            os.set_blocking(self._write, False)  # set_wakeup_fd writes without blocking
            for sig in self.signals:
                self._handlers[sig] = signal.signal(sig, _note)
        except BaseException:
            self._release()
            raise
        self._previous_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)

    def wait(self) -> list[int]:
        """Sleep until at least one signal or wake-up arrived; their numbers, in order."""
        return list(os.read(self._read, 64))

    def wake(self) -> None:
        """From any thread: make `wait` return a WAKE."""
        with contextlib.suppress(BlockingIOError):  # full: `wait` has wake-ups to read
            os.write(self._write, bytes([WAKE]))

    def close(self) -> None:
        signal.set_wakeup_fd(self._previous_fd)
        self._release()

    def _release(self) -> None:
        """Puts back the handlers replaced so far and closes the pipe."""
        for sig, handler in self._handlers.items():
            signal.signal(sig, handler)
        os.close(self._read)
        os.close(self._write)

    def __enter__(self) -> SignalPipe:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
