"""Whole-process footprint of `sabamon agent` beside collectd and node_exporter, measured
from outside over real minutes in the same run.

The agent runs the standard collectors, one metric plugin and one check plugin at the real
one-minute cadence and posts to a local `sabamon server`. Beside it, Debian's collectd reads
cpu/load/memory/disk/interface/df every 60 s (writing CSV), and prometheus-node-exporter
with its default collectors is scraped once a minute. For each process the bench reads, from
/proc only:

- CPU: utime + stime of the process (all its threads, from /proc/PID/stat) per minute, over
  the steady state (after the first minute); plugin children's CPU is printed apart;
- RSS (VmRSS) at the end of each minute, and its least-squares slope in MB per hour;
- threads while idle (Threads: in /proc/PID/status, median of the 1 Hz samples);
- wake-ups: voluntary context switches summed over /proc/PID/task/*/status, sampled each
  second; "per idle second" is the median second (most seconds of a minute have no work),
  "per second" the mean over the steady state, work included.

Run: .venv/bin/python bench/agent_footprint.py [--minutes 10] [--runs 3]
(loopback only; 3 runs of 10 minutes take 33 minutes; bench/footprint_setup.sh installs
collectd and prometheus-node-exporter with apt-get when missing.)
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import worktree  # this tree's code first

BENCH = Path(__file__).resolve().parent
API_KEY = "FootprintBenchKey0123456789abcdefghijklmnopq"  # 44 alphanumerics
TICK = os.sysconf("SC_CLK_TCK")
COLLECTD_CONF = """\
Hostname "footprint-bench"
FQDNLookup false
Interval 60
BaseDir "{folder}"
PIDFile "{folder}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
LoadPlugin disk
LoadPlugin interface
LoadPlugin df
LoadPlugin csv
<Plugin csv>
  DataDir "{folder}/csv"
  StoreRates true
</Plugin>
"""
METRIC_PLUGIN = "#!/bin/sh\nprintf 'bench.sessions\\t%s\\t%s\\n' \"$(cat /proc/loadavg | cut -d' ' -f4 | cut -d/ -f2)\" \"$(date +%s)\"\n"  # noqa: E501
CHECK_PLUGIN = "#!/bin/sh\necho 'disk ok'\nexit 0\n"


@dataclass
class Sample:
    at: float
    cpu_seconds: float
    children_cpu_seconds: float
    rss_mb: float
    threads: int
    switches: dict[int, int]
    runtime: dict[int, int]


@dataclass
class Watched:
    name: str
    pid: int
    samples: list[Sample] = field(default_factory=list)

    def sample(self, now: float) -> None:
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
        status = _status(Path(f"/proc/{self.pid}/status"))
        switches, runtime = {}, {}
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                switches[int(task.name)] = int(_status(task / "status")["voluntary_ctxt_switches"])
                runtime[int(task.name)] = int((task / "schedstat").read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError, KeyError):
                continue  # the thread ended between the listing and the read
        self.samples.append(
            Sample(
                now,
                (utime + stime) / TICK,
                (cutime + cstime) / TICK,
                int(status["VmRSS"].split()[0]) / 1024,
                int(status["Threads"]),
                switches,
                runtime,
            )
        )


def _status(path: Path) -> dict[str, str]:
    return dict(line.split(":\t", 1) for line in path.read_text().splitlines() if ":\t" in line)


def _wake_ups(before: Sample, after: Sample) -> int:
    """Voluntary switches between two samples: per thread, new threads counted whole."""
    return sum(count - before.switches.get(tid, 0) for tid, count in after.switches.items())


def _runtime_ns(samples: list[Sample]) -> int:
    """On-CPU nanoseconds (schedstat) summed over every thread seen: finer than clock ticks;
    a thread's last second before it ended is missed."""
    last: dict[int, int] = {}
    first: dict[int, int] = {}
    for sample in samples:
        for tid, ns in sample.runtime.items():
            first.setdefault(tid, ns if sample is samples[0] else 0)
            last[tid] = ns
    return sum(last[tid] - first[tid] for tid in last)


@dataclass
class Figures:
    cpu_ms_per_minute: float
    schedstat_ms_per_minute: float
    children_ms_per_minute: float
    rss_start: float
    rss_end: float
    rss_slope_mb_per_hour: float
    idle_threads: float
    idle_wakeups_per_second: float
    wakeups_per_second: float


def figures(watched: Watched, steady_from: float) -> Figures:
    steady = [s for s in watched.samples if s.at >= steady_from]
    first, last = steady[0], steady[-1]
    minutes = (last.at - first.at) / 60
    per_second = [_wake_ups(a, b) for a, b in itertools.pairwise(steady)]
    minute_marks = steady[::60]
    return Figures(
        cpu_ms_per_minute=(last.cpu_seconds - first.cpu_seconds) * 1000 / minutes,
        schedstat_ms_per_minute=_runtime_ns(steady) / 1e6 / minutes,
        children_ms_per_minute=(last.children_cpu_seconds - first.children_cpu_seconds)
        * 1000
        / minutes,
        rss_start=first.rss_mb,
        rss_end=last.rss_mb,
        rss_slope_mb_per_hour=_slope([(s.at / 3600, s.rss_mb) for s in minute_marks]),
        idle_threads=statistics.median(s.threads for s in steady),
        idle_wakeups_per_second=statistics.median(per_second),
        wakeups_per_second=sum(per_second) / (last.at - first.at),
    )


def _slope(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


@contextmanager
def running(command: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, env=env)
    try:
        yield process.pid
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def agent_config(folder: Path, apibase: str) -> Path:
    plugins = folder / "plugins"
    plugins.mkdir()
    for name, text in (("metric.sh", METRIC_PLUGIN), ("check.sh", CHECK_PLUGIN)):
        (plugins / name).write_text(text)
        (plugins / name).chmod(0o755)
    conf = folder / "agent.conf"
    conf.write_text(
        f'apikey = "{API_KEY}"\napibase = "{apibase}"\ncloud_platform = "none"\n'
        f'[plugin.metrics.bench]\ncommand = "{plugins / "metric.sh"}"\n'
        f'[plugin.checks.disk]\ncommand = "{plugins / "check.sh"}"\n'
    )
    return conf


def one_run(folder: Path, minutes: float) -> dict[str, Figures]:
    python = sys.executable
    server_port, exporter_port = free_port(), free_port()
    server_url = f"http://127.0.0.1:{server_port}"
    exporter_url = f"http://127.0.0.1:{exporter_port}/metrics"
    (folder / "collectd").mkdir()
    collectd_conf = folder / "collectd.conf"
    collectd_conf.write_text(COLLECTD_CONF.format(folder=folder / "collectd"))
    with ExitStack() as stack:
        server_env = worktree.child_env(SABAMON_BOOTSTRAP_API_KEY=API_KEY)
        server = [python, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{server_port}"]
        server += ["--data", str(folder / "data"), "--log-level", "warning"]
        stack.enter_context(running(server, folder / "server.log", server_env))
        wait_http(f"{server_url}/healthz")
        conf = agent_config(folder, server_url)
        agent = [python, "-m", "sabamon.cli", "agent", "--conf", str(conf)]
        agent += ["--root", str(folder / "root"), "--pidfile", ""]
        watched = [
            Watched(
                "sabamon agent",
                stack.enter_context(running(agent, folder / "agent.log", worktree.child_env())),
            ),
            Watched(
                "collectd",
                stack.enter_context(
                    running(["collectd", "-f", "-C", str(collectd_conf)], folder / "collectd.log")
                ),
            ),
            Watched(
                "node_exporter",
                stack.enter_context(
                    running(
                        [
                            "prometheus-node-exporter",
                            f"--web.listen-address=127.0.0.1:{exporter_port}",
                        ],
                        folder / "node_exporter.log",
                    )
                ),
            ),
        ]
        wait_http(exporter_url)
        return measure(watched, exporter_url, minutes)


def measure(watched: list[Watched], exporter_url: str, minutes: float) -> dict[str, Figures]:
    """Sample every process each second; scrape node_exporter at the start of each minute."""
    started = time.monotonic()
    steady_from = started + 60
    end = started + 60 * (minutes + 1)
    next_scrape = started
    second = 0
    while (now := time.monotonic()) < end:
        if now >= next_scrape:
            with urllib.request.urlopen(exporter_url, timeout=10) as answer:
                answer.read()
            next_scrape += 60
        for process in watched:
            process.sample(now)
        second += 1
        if second % 60 == 0:
            print(
                f"  minute {second // 60}/{minutes + 1:g}: "
                + ", ".join(f"{w.name} {w.samples[-1].cpu_seconds:.2f} s CPU" for w in watched),
                file=sys.stderr,
                flush=True,
            )
        time.sleep(max(0.0, started + second - time.monotonic()))
    return {w.name: figures(w, steady_from) for w in watched}


def report(runs: list[dict[str, Figures]]) -> None:
    def median(name: str, attribute: str) -> float:
        return statistics.median(getattr(run[name], attribute) for run in runs)

    names = list(runs[0])
    print(f"median of {len(runs)} run(s); steady state = after the first minute")
    header = f"{'':34}" + "".join(f"{name:>16}" for name in names)
    print(header)
    rows = (
        ("CPU per minute (ms), stat ticks", "cpu_ms_per_minute", "{:16.1f}"),
        ("CPU per minute (ms), schedstat", "schedstat_ms_per_minute", "{:16.2f}"),
        ("  plugin children (ms/min)", "children_ms_per_minute", "{:16.1f}"),
        ("RSS at steady start (MB)", "rss_start", "{:16.1f}"),
        ("RSS at the end (MB)", "rss_end", "{:16.1f}"),
        ("RSS slope (MB/hour)", "rss_slope_mb_per_hour", "{:16.2f}"),
        ("threads while idle", "idle_threads", "{:16.0f}"),
        ("wake-ups per idle second", "idle_wakeups_per_second", "{:16.1f}"),
        ("wake-ups per second, work incl.", "wakeups_per_second", "{:16.2f}"),
    )
    for label, attribute, form in rows:
        print(f"{label:34}" + "".join(form.format(median(n, attribute)) for n in names))
    agent = names[0]
    for other in names[1:]:
        ratios = [
            f"{label} {_ratio(median(agent, attribute), median(other, attribute))}"
            for label, attribute in (
                ("CPU (ticks)", "cpu_ms_per_minute"),
                ("CPU (schedstat)", "schedstat_ms_per_minute"),
                ("RSS", "rss_end"),
            )
        ]
        print(f"agent / {other}: " + ", ".join(ratios))
    for index, run in enumerate(runs, 1):
        print(
            f"run {index}: "
            + ", ".join(
                f"{n} {f.cpu_ms_per_minute:.1f} ({f.schedstat_ms_per_minute:.2f}) ms/min"
                for n, f in run.items()
            )
        )


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.1f}x" if baseline else "n/a (baseline 0)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="steady minutes per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    # A TERM stops the bench through its `finally` blocks, so no process it started stays.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    subprocess.run(["sh", str(BENCH / "footprint_setup.sh")], check=True)
    if shutil.which("collectd") is None and Path("/usr/sbin/collectd").exists():
        os.environ["PATH"] += ":/usr/sbin"
    runs = []
    for index in range(args.runs):
        print(f"run {index + 1}/{args.runs}: {args.minutes + 1:g} minutes", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="footprint-") as tmp:
            runs.append(one_run(Path(tmp), args.minutes))
    report(runs)


if __name__ == "__main__":
    main()
