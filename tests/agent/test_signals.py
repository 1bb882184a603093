"""The signal pipe on real signals: a signal that cannot be caught leaves the handlers as
they were and no descriptor open."""

from __future__ import annotations

import os
import signal

import pytest

from sabamon.agent.signals import SignalPipe


def test_a_signal_that_cannot_be_caught_leaves_nothing_behind() -> None:
    before_handler = signal.getsignal(signal.SIGUSR1)
    before_fds = sorted(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError):
        SignalPipe((signal.SIGUSR1, signal.SIGKILL))
    assert signal.getsignal(signal.SIGUSR1) is before_handler
    assert sorted(os.listdir("/proc/self/fd")) == before_fds
