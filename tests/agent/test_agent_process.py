"""A real agent subprocess against the fault-injecting loopback peer: signals, HUP, spool."""

from __future__ import annotations

import signal
from pathlib import Path

from agent_process import agent_log, start_agent, stop, write_config
from fault_server import Fault, FaultServer
from tests.support.waiting import wait_until

from sabamon.agent.spool import BatchKind, Spool


def counter_points(server: FaultServer) -> list[tuple[int, float]]:
    return [(v["time"], v["value"]) for v in server.stored if v["name"] == "custom.counter"]


def refused_counter_values(server: FaultServer) -> set[float]:
    posts = server.calls("POST", "/api/v0/tsdb")
    return {v["value"] for r in posts for v in r.body if v["name"] == "custom.counter"}


def spooled(root: Path, kind: BatchKind) -> int:
    """Batches of `kind` that the agent with this root left in its spool."""
    with Spool(root / "spool") as spool:
        return spool.count(kind)


def refuse_tsdb(server: FaultServer) -> Fault:
    fault = Fault(lambda r: r.path == "/api/v0/tsdb", 503)
    server.fail(fault)
    return fault


def test_registers_posts_and_stops_cleanly(server: FaultServer, tmp_path: Path) -> None:
    conf = write_config(tmp_path, server.url, '[host_status]\non_stop = "standby"')
    agent = start_agent(conf, tmp_path / "root")
    wait_until(lambda: len(counter_points(server)) >= 2)
    assert stop(agent) == 0
    assert (tmp_path / "root" / "id").read_text() == server.host_id
    create = server.calls("POST", "/api/v0/hosts")[0]
    assert create.headers["User-Agent"].startswith("sabamon-agent/")
    assert {"X-Api-Key", "X-Agent-Version", "X-Revision"} <= set(create.headers)
    assert create.headers["Content-Type"] == "application/json"
    assert server.calls("PUT", f"/api/v0/hosts/{server.host_id}")  # specs at start
    status = server.calls("POST", f"/api/v0/hosts/{server.host_id}/status")
    assert status[-1].body == {"status": "standby"}
    names = {v["name"] for v in server.stored}
    assert {"loadavg1", "memory.total", "custom.counter"} <= names


def test_term_drains_the_spool(server: FaultServer, tmp_path: Path) -> None:
    fault = refuse_tsdb(server)
    agent = start_agent(write_config(tmp_path, server.url), tmp_path / "root")
    wait_until(lambda: len(refused_counter_values(server)) >= 2)
    server.clear_faults()
    fault.times = 0
    assert stop(agent) == 0
    assert spooled(tmp_path / "root", BatchKind.METRICS) == 0
    times = [t for t, _ in counter_points(server)]
    assert len(times) == len(set(times)) >= 2


def test_second_signal_forces_the_exit(server: FaultServer, tmp_path: Path) -> None:
    refuse_tsdb(server)
    agent = start_agent(write_config(tmp_path, server.url), tmp_path / "root")
    wait_until(lambda: len(server.calls("POST", "/api/v0/tsdb")) >= 2)
    agent.send_signal(signal.SIGTERM)
    wait_until(lambda: len(server.calls("POST", "/api/v0/tsdb")) >= 4)
    assert stop(agent, signal.SIGTERM) == 1
    assert spooled(tmp_path / "root", BatchKind.METRICS) > 0  # kept for later


def test_hup_puts_the_specs(server: FaultServer, tmp_path: Path) -> None:
    agent = start_agent(write_config(tmp_path, server.url), tmp_path / "root")
    path = f"/api/v0/hosts/{server.host_id}"
    wait_until(lambda: len(server.calls("PUT", path)) == 1 and len(server.stored) > 0)
    agent.send_signal(signal.SIGHUP)
    wait_until(lambda: len(server.calls("PUT", path)) == 2)
    assert stop(agent) == 0


def test_kill_9_then_restart_loses_nothing(server: FaultServer, tmp_path: Path) -> None:
    refuse_tsdb(server)
    conf, root = write_config(tmp_path, server.url), tmp_path / "root"
    agent = start_agent(conf, root)
    wait_until(lambda: len(refused_counter_values(server)) >= 2)
    stop(agent, signal.SIGKILL)
    with Spool(root / "spool") as spool:
        pending = spool.oldest(BatchKind.METRICS, 10_000)
    expected = {(v["time"], v["value"]) for b in pending for v in b.body if "counter" in v["name"]}
    assert len(expected) >= 2
    server.clear_faults()
    agent = start_agent(conf, root)
    wait_until(lambda: expected <= set(counter_points(server)))
    assert stop(agent) == 0
    points = counter_points(server)
    assert len(points) == len(set(points)), "a point was posted twice"
    values = [value for _, value in sorted(points)]
    assert values == sorted(values)


def test_registration_refused_says_what_to_do(server: FaultServer, tmp_path: Path) -> None:
    server.fail(Fault(lambda r: r.method == "POST" and r.path == "/api/v0/hosts", 403))
    conf = write_config(tmp_path, server.url)
    agent = start_agent(conf, tmp_path / "root")
    assert agent.wait(20) == 1
    assert "check the apikey" in agent_log(conf)
    assert len(server.calls("POST", "/api/v0/hosts")) == 1  # a 4xx is not retried


def test_id_file_of_an_unknown_host_stops_with_a_hint(server: FaultServer, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "id").write_text("someoneElse\n")
    conf = write_config(tmp_path, server.url)
    agent = start_agent(conf, root)
    assert agent.wait(20) == 1
    assert "to register anew" in agent_log(conf)


def test_a_check_report_pending_at_the_stop_is_kept(server: FaultServer, tmp_path: Path) -> None:
    """An OK report waits for the flush interval; a stop spools it before the spool closes."""
    ran = tmp_path / "ran"
    check = f"[plugin.checks.ok]\ncommand = '''touch {ran}; echo fine'''\n"
    conf = write_config(tmp_path, server.url, check)
    agent = start_agent(conf, tmp_path / "root")
    wait_until(lambda: ran.exists() and len(counter_points(server)) >= 1)
    assert stop(agent) == 0
    assert "check_reports_not_queued" not in agent_log(conf)
    posted = [r for call in server.calls("POST", "/api/v0/monitoring/checks/report")
              for r in call.body["reports"]]  # fmt: skip
    assert posted or spooled(tmp_path / "root", BatchKind.CHECK_REPORTS), agent_log(conf)


def test_the_exit_waits_for_the_collection_under_way(server: FaultServer, tmp_path: Path) -> None:
    """A TERM comes while the first collection runs a plugin for 1.5 s more: the exit waits
    for that collection (up to its bound) instead of cutting it off."""
    started, done = tmp_path / "started", tmp_path / "done"
    slow = (  # the collection's run, not the graph-definition one
        f'if [ "$MACKEREL_AGENT_PLUGIN_META" != 1 ] && [ ! -e {started} ]; then '
        f"touch {started}; sleep 1.5; touch {done}; fi"
    )
    conf = write_config(tmp_path, server.url, f"[plugin.metrics.slow]\ncommand = '''{slow}'''\n")
    agent = start_agent(conf, tmp_path / "root")
    wait_until(lambda: started.exists() and "event=agent_started" in agent_log(conf))
    assert stop(agent) == 0
    assert done.exists(), agent_log(conf)
    assert "collection_failed" not in agent_log(conf)
