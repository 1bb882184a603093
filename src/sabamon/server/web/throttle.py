"""Sign-in throttling: a growing delay after failed sign-ins, per account and address.

Failures are counted per (account, client address) and per client address. Once a count
reaches its threshold, each further failure locks that key for a delay that doubles
(5 s, 10 s, 20 s ... at most `max_delay`, 15 min); an attempt while locked is refused before the
password is checked. The account is never locked as a whole, so its owner signs in from
another address while someone guesses from one; a success clears its (account, address)
count. Counts older than `window` seconds start again. State is per worker process and
bounded (`max_entries`, least recently failed dropped first); each lockout logs one line.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class Failures:
    count: int
    last: float
    locked_until: float


class SignInThrottle:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window: float = 900.0,
        first_delay: float = 5.0,
        max_delay: float = 900.0,
        max_entries: int = 10_000,
    ) -> None:
        self.clock = clock
        self.thresholds = {"account": per_account, "address": per_address}
        self.window, self.max_delay, self.max_entries = window, max_delay, max_entries
        self.first_delay = first_delay
        self.entries: OrderedDict[tuple[str, str, str], Failures] = OrderedDict()

    def keys(self, account: str, address: str) -> list[tuple[str, str, str]]:
        return [("account", account, address), ("address", "", address)]

    def wait(self, account: str, address: str) -> float:
        """Seconds until `account` may try again from `address`; 0 when it may now."""
        now = self.clock()
        waits = [
            entry.locked_until - now
            for key in self.keys(account, address)
            if (entry := self.entries.get(key)) is not None
        ]
        return max([0.0, *waits])

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        for key in self.keys(account, address):
            entry = self.entries.pop(key, None)
            if entry is None or now - entry.last > self.window:
                entry = Failures(0, now, -math.inf)
            entry.count += 1
            entry.last = now
            over = entry.count - self.thresholds[key[0]]
            if over >= 0:
                delay = min(self.max_delay, self.first_delay * 2.0**over)
                entry.locked_until = now + delay
                log.warning(
                    "event=sign_in_locked scope=%s user=%r client=%s failures=%d delay=%g",
                    key[0], account[:64], address, entry.count, delay,
                )  # fmt: skip
            self.entries[key] = entry
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def succeeded(self, account: str, address: str) -> None:
        self.entries.pop(("account", account, address), None)
