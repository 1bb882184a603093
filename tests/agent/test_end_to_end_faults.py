"""A real `sabamon server` and a real agent subprocess with plugins that misbehave: one bad
value costs only itself, and what plugins leave behind ends with the agent."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
from agent_process import SERVER_API_KEY, agent_log, start_agent, stop, write_config
from tests.support.waiting import wait_until

STORM = (
    "printf 'storm.acker.verify:__ack\\t12\\t%s\\nses.bounces\\tint\\t0\\n"
    "storm.ok\\t3\\t%s\\n' $(date +%s) $(date +%s)"
)
LONG_NUL_MESSAGE = (
    "printf 'cmdline: nginx\\000-g\\000daemon off;'; head -c 2000 /dev/zero | tr '\\0' x"
)
SPAWN = (
    "for i in 1 2 3 4 5 6 7 8 9 10; do setsid sleep 300 </dev/null >/dev/null 2>&1 & "
    'echo $! >> "{pids}"; done; echo "spawned.count\\t10\\t$(date +%s)"'
)


def stored(client: httpx.Client, host_id: str, name: str) -> list[dict[str, float]]:
    now = int(time.time())
    answer = client.get(
        f"/api/v0/hosts/{host_id}/metrics", params={"name": name, "from": now - 600, "to": now + 60}
    )
    return answer.json().get("metrics", []) if answer.status_code == 200 else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_bad_plugin_line_costs_only_itself_and_leftovers_end_with_the_agent(
    sabamon_server: str, server_client: httpx.Client, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    extra = (
        f"[plugin.metrics.storm]\ncommand = '''{STORM}'''\n"
        f"[plugin.metrics.spawn]\ncommand = '''{SPAWN.format(pids=pids)}'''\n"
        f"[plugin.checks.proc]\ncommand = '''{LONG_NUL_MESSAGE}; exit 2'''\n"
    )
    conf = write_config(tmp_path, sabamon_server, extra)
    conf.write_text(conf.read_text().replace("test-key", SERVER_API_KEY))
    agent = start_agent(conf, tmp_path / "root")
    try:
        wait_until(lambda: (tmp_path / "root" / "id").exists())
        host_id = (tmp_path / "root" / "id").read_text()
        names = ("loadavg1", "memory.used", "custom.counter", "custom.storm.ok")
        wait_until(lambda: all(stored(server_client, host_id, name) for name in names), timeout=30)

        def statuses() -> list[dict[str, object]]:
            path = f"/api/v0/hosts/{host_id}/monitored-statuses"
            found: list[dict[str, object]] = server_client.get(path).json()["monitoredStatuses"]
            return found

        wait_until(lambda: bool(statuses()), timeout=30)
        assert stop(agent) == 0
    finally:
        stop(agent)
    # the refused name never reached the server, the good line beside it did
    names_stored = server_client.get(f"/api/v0/hosts/{host_id}/metric-names").json()["names"]
    assert not any("storm.acker" in name or "bounces" in name for name in names_stored)
    log = agent_log(conf)
    assert "source=plugin.metrics.storm metric=storm.acker.verify:__ack problem=name" in log
    assert "source=plugin.metrics.storm metric=ses.bounces problem=value" in log
    assert log.count("metric=ses.bounces problem=value") == 1  # once an hour, not per run
    # a CRITICAL whose output holds NULs and runs past 1,024 characters is stored, cut
    (status,) = statuses()
    message = status["detail"]["message"]  # type: ignore[index]
    assert status["status"] == "CRITICAL"
    assert message.startswith("cmdline: nginx\ufffd-g\ufffddaemon off;xxx") and len(message) == 1024
    # every setsid'd grandchild the spawn plugin left ended with the agent
    children = [int(line) for line in pids.read_text().split()]
    assert len(children) >= 10
    wait_until(lambda: not any(alive(pid) for pid in children), timeout=10)
