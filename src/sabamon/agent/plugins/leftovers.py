"""Finding and ending a plugin's descendants, wherever they went.

A plugin runs in its own process group, and a timeout signals that group; but a child that
calls `setsid` (or double-forks into a new session) leaves the group and, once its parent
exits, is reparented away from the agent. Each run therefore carries a token in its
environment, `SABAMON_PLUGIN_RUN=<agent pid>.<run>`, which every descendant inherits; the
runner ends the processes holding a run's token when the run times out, and those holding
any of the agent's tokens when the agent exits. A process that clears its environment
(`env -i`, sudo's env_reset) is out of reach; the process group still covers it until it
calls setsid.

Why not PR_SET_CHILD_SUBREAPER: orphans would become the agent's children, and reaping them
needs a `waitpid(-1)` that would also collect the exit status `subprocess` waits for.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

RUN_TOKEN = "SABAMON_PLUGIN_RUN"
_runs = itertools.count(1)


def new_run_token() -> str:
    """A token value unique to one plugin run of this agent."""
    return f"{os.getpid()}.{next(_runs)}"


def agent_prefix() -> str:
    """What every run token of this agent starts with."""
    return f"{os.getpid()}."


def holders(token: str, *, prefix: bool = False, proc: Path = Path("/proc")) -> list[int]:
    """Live processes (not zombies) whose environment holds `RUN_TOKEN=token` (or a value
    starting with `token` when `prefix`). Processes of other users are not readable: skipped."""
    wanted = f"{RUN_TOKEN}={token}".encode()
    found = []
    for entry in os.scandir(proc):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (proc / entry.name / "environ").read_bytes()
            state = (proc / entry.name / "stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state == b"Z":
            continue
        for variable in environ.split(b"\0"):
            if variable == wanted or (prefix and variable.startswith(wanted)):
                found.append(int(entry.name))
                break
    return found


def end_holders(token: str, *, prefix: bool = False, grace: float = 1.0) -> int:
    """TERM the holders of `token`, KILL those still alive after `grace` seconds; returns
    how many were found. Logged with the count."""
    pids = holders(token, prefix=prefix)
    if not pids:
        return 0
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    remaining = pids
    while remaining and time.monotonic() < deadline:
        time.sleep(0.02)  # their parent, not the agent, reaps them: poll /proc
        remaining = [pid for pid in holders(token, prefix=prefix) if pid in pids]
    for pid in remaining:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    log.warning(
        "event=plugin_leftovers_ended token=%s processes=%d killed=%d",
        token,
        len(pids),
        len(remaining),
    )
    return len(pids)
