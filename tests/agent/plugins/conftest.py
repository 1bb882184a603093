"""Fixtures for the plugin tests: a runner with a short kill grace and a hand-moved clock."""

from __future__ import annotations

import pytest
from plugin_helpers import FakeClock

from sabamon.agent.plugins.runner import PluginRunner


@pytest.fixture
def runner() -> PluginRunner:
    return PluginRunner(kill_grace_seconds=0.5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
