"""A real agent posting through a real server into a real VictoriaMetrics that goes away:
the agent keeps what the server answered 503 to in its spool and posts it once
VictoriaMetrics is back; no second of the agent's counter plugin is missing in the end."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import httpx
import pytest
from tests.agent.agent_process import FAST_TIMINGS, agent_log, start_agent, stop, write_config
from tests.support.server import API_KEY, running_server
from tests.support.waiting import wait_until

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.victoria.labels import point_second

pytestmark = pytest.mark.victoria


def counter_points(victoria: VictoriaProcess) -> list[tuple[int, float]]:
    """[(second, value)] of the agent's counter plugin as VictoriaMetrics holds them."""
    victoria.flush()
    answer = httpx.post(
        victoria.url + "/api/v1/export",
        data={"match[]": '{__name__="custom.counter"}', "start": "1"},
        timeout=10,
    )
    rows = [json.loads(line) for line in answer.text.splitlines() if line]
    return sorted(
        (point_second(ms), value)
        for row in rows
        for ms, value in zip(row["timestamps"], row["values"], strict=True)
    )


def counter_values(victoria: VictoriaProcess) -> list[float]:
    return [value for _, value in counter_points(victoria)]


def collected(folder: Path) -> int:
    """How many times the agent has run its counter plugin (the count it keeps in a file)."""
    text = (folder / "counter").read_text().strip() if (folder / "counter").exists() else ""
    return int(text or 0)


OUTAGE_COLLECTIONS = 6
"""Collections (about one a second) the agent makes while VictoriaMetrics is down: twice
the gap allowed below, so a lost spool cannot hide in it."""


def test_an_outage_costs_the_agent_a_wait_not_a_point(
    tmp_path: Path, own_victoria: VictoriaProcess
) -> None:
    with running_server(tmp_path / "data", "--series-store", own_victoria.url) as server:
        conf = write_config(tmp_path, server.url)
        conf.write_text(conf.read_text().replace("test-key", API_KEY))
        # the server's Retry-After (10 s) capped at 1 s: the agent posts again each second
        agent = start_agent(conf, tmp_path / "root", timings=FAST_TIMINGS + ",max_retry_after=1")
        try:
            wait_until(lambda: len(counter_values(own_victoria)) >= 2, timeout=30)
            own_victoria.stop()
            stopped_at = collected(tmp_path)
            # the agent is refused (503) at least twice and keeps those batches
            wait_until(lambda: agent_log(conf).count("event=post_failed will_retry=true") >= 2)
            wait_until(lambda: collected(tmp_path) >= stopped_at + OUTAGE_COLLECTIONS)
            assert "503" in agent_log(conf)
            own_victoria.start()
            seen = counter_values(own_victoria)[-1]
            wait_until(lambda: counter_values(own_victoria)[-1] >= seen + 3, timeout=30)
            assert stop(agent) == 0
        finally:
            stop(agent)
        assert "event=series_store_unavailable" in server.log()
    # a point about every second (two collections in one second keep the later, as on
    # SQLite); the outage lasted six collections, so a lost spool would leave a gap that
    # long: what was refused arrived once VictoriaMetrics was back
    points = counter_points(own_victoria)
    seconds = [second for second, _ in points]
    assert seconds[-1] - seconds[0] >= OUTAGE_COLLECTIONS
    assert max(later - earlier for earlier, later in itertools.pairwise(seconds)) <= 3
    values = [value for _, value in points]
    assert values == sorted(values)  # the counter only grows
