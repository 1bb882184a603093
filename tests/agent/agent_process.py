"""Start a real `sabamon agent` subprocess against a loopback peer, with shrunk timings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

SERVER_API_KEY = "e2e-agent-test-key"  # the key the `sabamon_server` fixture bootstraps
FAST_TIMINGS = (
    "post_interval=1,delta_interval=0.05,tick_resolution=0.05,queued_delay=0.1,"
    "error_delay=0.2,terminating_delay=0.1,max_terminating=5,startup_attempts=2,"
    "startup_retry_delay=0.1"
)


def write_config(folder: Path, apibase: str, extra: str = "") -> Path:
    """A config with a counter metric plugin (its count kept in a file) and no cloud probe."""
    counter = folder / "counter"
    command = (
        f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; "
        "printf 'counter\\t%s\\t%s\\n' $n $(date +%s)"
    )
    conf = folder / "agent.conf"
    conf.write_text(
        f'apikey = "test-key"\napibase = "{apibase}"\ncloud_platform = "none"\n{extra}\n'
        f"[plugin.metrics.counter]\ncommand = '''{command}'''\n"
    )
    return conf


def start_agent(
    conf: Path, root: Path, *args: str, timings: str = FAST_TIMINGS
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "sabamon.cli", "agent", *args]
    command += ["--conf", str(conf), "--root", str(root), "--pidfile", "", "--timings", timings]
    # Logs go to a file beside the config (read it with `agent_log`), never a pipe that fills.
    with (conf.parent / "agent.log").open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=log, env={**os.environ, "LANG": "C"})


def agent_log(conf: Path) -> str:
    return (conf.parent / "agent.log").read_text()


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
