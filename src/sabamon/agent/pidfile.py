"""The pidfile rules of mackerel-agent: our own pid inside is reused; a live process with the
same program name is a running agent (refuse to start); a stale or malformed file is
overwritten with a warning. Content is the decimal pid, no newline; removed on exit."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)


class PidfileError(Exception):
    pass


def _program(cmdline: bytes) -> list[str]:
    return [os.path.basename(a) for a in cmdline.decode(errors="replace").split("\0") if a]


def _is_agent(pid: int) -> bool:
    """Whether `pid` runs the same program as we do (basename of argv[0], and the first
    argument for interpreters, since every Python agent has `python` as argv[0])."""
    try:
        theirs = _program(Path(f"/proc/{pid}/cmdline").read_bytes())
    except OSError:
        return False
    ours = _program(Path("/proc/self/cmdline").read_bytes())
    return bool(theirs) and theirs[:2] == ours[:2]


def create_pidfile(path: Path) -> None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = None
    if text is not None:
        try:
            pid = int(text.strip())
        except ValueError:
            log.warning("event=pidfile_malformed path=%s content=%r", path, text[:40])
            pid = 0
        if pid == os.getpid():
            return
        if pid > 0 and _is_agent(pid):
            raise PidfileError(
                f"pidfile found, the agent may be running already (pid {pid}, {path})"
            )
        if pid > 0:
            log.warning("event=pidfile_stale path=%s pid=%d", path, pid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(os.getpid()))


def remove_pidfile(path: Path) -> None:
    try:
        if path.read_text().strip() == str(os.getpid()):
            path.unlink()
    except OSError as err:
        print(f"sabamon agent: could not remove the pidfile {path}: {err}", file=sys.stderr)
