"""Default paths. Run as root, the agent uses the system paths; run as any other user, the
XDG per-user paths, so it works without root.

root:
  conf     /etc/sabamon/agent.conf, else /etc/mackerel-agent/mackerel-agent.conf if present
  root     /var/lib/sabamon-agent
  pidfile  /var/run/sabamon-agent.pid
other users:
  conf     $XDG_CONFIG_HOME/sabamon/agent.conf (~/.config/sabamon/agent.conf)
  root     $XDG_STATE_HOME/sabamon-agent (~/.local/state/sabamon-agent)
  pidfile  $XDG_RUNTIME_DIR/sabamon-agent.pid, else <root>/agent.pid
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SYSTEM_CONF = Path("/etc/sabamon/agent.conf")
MACKEREL_CONF = Path("/etc/mackerel-agent/mackerel-agent.conf")


@dataclass(frozen=True)
class DefaultPaths:
    conf: Path
    root: Path
    pidfile: Path


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    return Path(value) if value.startswith("/") else Path.home() / fallback


def default_paths(is_root: bool | None = None) -> DefaultPaths:
    if is_root is None:
        is_root = os.geteuid() == 0
    if is_root:
        conf = SYSTEM_CONF if SYSTEM_CONF.exists() or not MACKEREL_CONF.exists() else MACKEREL_CONF
        return DefaultPaths(
            conf, Path("/var/lib/sabamon-agent"), Path("/var/run/sabamon-agent.pid")
        )
    root = _xdg("XDG_STATE_HOME", ".local/state") / "sabamon-agent"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    pidfile = Path(runtime) / "sabamon-agent.pid" if runtime.startswith("/") else root / "agent.pid"
    return DefaultPaths(
        _xdg("XDG_CONFIG_HOME", ".config") / "sabamon" / "agent.conf", root, pidfile
    )
