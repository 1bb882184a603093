"""`sabamon up`: the main job. A server on loopback with SQLite in a data folder, plus an agent
for this host posting to it; prints the dashboard URL and the API key, and stops both on
Ctrl-C (the agent first, so it drains its queue into the server)."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sabamon up", description=__doc__)
    parser.add_argument("--data", default="data", help="data folder (default: ./data)")
    parser.add_argument("--listen", default="127.0.0.1:8080", help="host:port to serve on")
    parser.add_argument(
        "--public-url", help="the dashboard's address for notification links (see `server`)"
    )
    parser.add_argument("--no-agent", action="store_true", help="start only the server")
    return parser.parse_args(argv)


def wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"sabamon up: the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"sabamon up: the server did not answer on {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(command: str, argv: list[str]) -> int:
    args = parse_args(argv)
    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    url = f"http://{args.listen}"
    sabamon = [sys.executable, "-m", "sabamon.cli"]

    public = ["--public-url", args.public_url] if args.public_url else []
    server = subprocess.Popen(
        [*sabamon, "server", "--listen", args.listen, "--data", str(data), *public]
    )
    agent: subprocess.Popen[bytes] | None = None
    try:
        wait_healthy(url, server)
        apikey = (data / "apikey").read_text().strip()
        if not args.no_agent:
            agent_root = data / "agent"
            agent = subprocess.Popen(
                [
                    *sabamon,
                    "agent",
                    "--apibase",
                    url,
                    "--apikey",
                    apikey,
                    "--root",
                    str(agent_root),
                    "--pidfile",
                    "",
                ]
            )
        print(
            f"\nsabamon is running.\n  dashboard: {url}/  (user admin; its password is printed"
            f" above on the first start, `sabamon user passwd admin --data {data}` sets a new one)"
            f"\n  API key:   {apikey} (saved in {data / 'apikey'})\n"
            + ("" if args.no_agent else "  agent:     posting this host's metrics every minute\n")
            + "Press Ctrl-C to stop.",
            flush=True,
        )
        while server.poll() is None and (agent is None or agent.poll() is None):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if agent is not None:
            stop(agent, timeout=35)
        stop(server, timeout=15)
