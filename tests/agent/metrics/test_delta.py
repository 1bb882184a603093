"""The delta collectors' samples: only the first collection waits for its window; later ones
(and one made while the first waits) pair a new reading with the kept one at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sabamon.agent.metrics.delta import DeltaSampler


class Counter:
    """A counter source and a clock that each move by one per reading."""

    def __init__(self) -> None:
        self.readings = 0
        self.now = 100.0

    def read(self) -> int:
        self.readings += 1
        self.now += 1
        return self.readings * 10

    def clock(self) -> float:
        return self.now


def test_only_the_first_pair_waits_for_the_window() -> None:
    counter = Counter()
    sampler = DeltaSampler(counter.read, counter.clock)
    stop = threading.Event()
    stop.set()  # a wait would return at once, so count the readings instead
    assert sampler.pair(60.0, stop) == (10, 20, 1.0)
    assert sampler.pair(60.0, threading.Event()) == (20, 30, 1.0)  # no wait: it would hang
    assert sampler.pair(60.0, threading.Event()) == (30, 40, 1.0)
    assert counter.readings == 4


def test_a_pair_asked_while_the_first_waits_uses_the_first_reading() -> None:
    counter = Counter()
    sampler = DeltaSampler(counter.read, counter.clock)
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(sampler.pair, 3600.0, stop)
        while counter.readings == 0:  # the first reading is taken before the wait
            threading.Event().wait(0.001)
        assert sampler.pair(3600.0, threading.Event()) == (10, 20, 1.0)
        assert not first.done()
        stop.set()
        assert first.result(timeout=5) == (10, 30, 2.0)
    assert sampler.pair(0.0, threading.Event()) == (30, 40, 1.0)  # the newest reading is kept
