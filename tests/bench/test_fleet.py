"""`sabamon bench fleet` against a real server process on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.server import ServerProcess, running_server

from sabamon.bench.cli import main
from sabamon.bench.fleet import Fleet, FleetOptions
from sabamon.bench.results import ERROR_CLASSES, Thresholds
from sabamon.bench.shard import metric_names

pytestmark = pytest.mark.alone  # the bench's latency figures and its p99 threshold


def stored_minutes(server: ServerProcess, host_id: str, name: str) -> set[int]:
    now = int(time.time())  # a span under 20 h reads one point a minute
    with server.client() as client:
        answer = client.get(
            f"/api/v0/hosts/{host_id}/metrics",
            params={"name": name, "from": now - 3600, "to": now + 6 * 3600},
        )
    assert answer.status_code == 200, answer.text
    return {point["time"] for point in answer.json()["metrics"]}


def bench_hosts(server: ServerProcess) -> list[dict[str, object]]:
    with server.client() as client:
        hosts = client.get("/api/v0/hosts").json()["hosts"]
    return [host for host in hosts if str(host["name"]).startswith("bench-")]


def test_fleet_command_registers_posts_checks_and_writes_reports(tmp_path: Path) -> None:
    json_path, html_path = tmp_path / "fleet.json", tmp_path / "fleet.html"
    with running_server(tmp_path / "data") as server:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "sabamon.cli", "bench", "fleet", "--url", server.url),
                *("--apikey", server.apikey, "--hosts", "6", "--metrics", "5", "--checks"),
                *("--duration", "4", "--time-scale", "60", "--processes", "2"),
                *("--json", str(json_path), "--html", str(html_path)),
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0, done.stderr
        hosts = bench_hosts(server)
        assert len(hosts) == 6
        # Each host posted one host-minute a (scaled) minute: 4 rounds in 4 s at scale 60.
        for host in hosts:
            for name in metric_names(5):
                assert len(stored_minutes(server, str(host["id"]), name)) == 4

    assert re.search(r"largest fleet carried .*: 6 hosts", done.stdout), done.stdout
    report = json.loads(json_path.read_text())
    step = report["steps"][0]
    assert step["hosts"] == 6
    assert step["check_requests"] == 24
    assert step["requests"] == step["ok"] == 48
    assert step["errors"] == dict.fromkeys(ERROR_CLASSES, 0) and step["unsent"] == 0
    assert step["points_per_second"] == pytest.approx(24 * 5 / 4)
    assert 0 < step["latency"]["p50"] <= step["latency"]["p99"] < 1
    assert step["server"]["processes"] >= 1 and step["server"]["rss_max_mb"] > 0
    assert step["generator"]["processes"] == 3
    assert "apikey" not in report["options"]
    page = html_path.read_text()
    assert page.count("<svg") >= 2 and "<polyline" in page
    assert not re.search(r"<script|<link|\ssrc=|\shref=|url\(", page)


def test_ramp_stops_when_the_server_sheds(tmp_path: Path) -> None:
    """One host never has two posts in flight, so a bound of one request is carried;
    sixteen hosts ten times a second are not."""
    # registering the sixteen hosts meets the bound too: each 503 costs its Retry-After
    options = ("--max-in-flight", "1", "--shed-retry-after", "1")
    with running_server(tmp_path / "data", *options) as server:
        options = FleetOptions(
            url=server.url,
            apikey=server.apikey,
            hosts=1,
            metrics=200,
            duration=2,
            time_scale=600,
            ramp=True,
            ramp_factor=16,
            processes=2,
            thresholds=Thresholds(max_p99=1.0, max_error_rate=0.001),
        )
        report = Fleet(options).run()
    assert [step.hosts for step in report.steps] == [1, 16]
    first, second = report.steps
    assert first.carried and not any(first.errors.values())
    assert not second.carried and second.shed > 0
    assert {k for k, n in second.errors.items() if n} == {"503"}, "shed, not timed out"
    assert report.largest_carried == 1


def test_bad_options_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["fleet", "--url", "http://127.0.0.1:9", "--apikey", "k", "--hosts", "0"]
    assert main("bench", [*argv, "--metrics", "0"]) == 2
    error = capsys.readouterr().err
    assert "--hosts: must be at least 1" in error and "--metrics: must be at least 1" in error
    assert (
        main(
            "bench",
            ["fleet", "--url", "ftp://x", "--apikey", "k", "--hosts", "1", "--metrics", "1"],
        )
        == 2
    )
    assert "--url 'ftp://x'" in capsys.readouterr().err
    assert main("bench", ["nonsense"]) == 2
