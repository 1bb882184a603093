"""What a plugin's process starts with, as subprocess.Popen would start it: looked up in the
plugin's PATH, default SIGPIPE and SIGXFSZ, no descriptor of the agent's beyond 0-2, a
session of its own, stdin from /dev/null."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sabamon.agent.plugins.spawn import spawn


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    child = spawn(argv, env)
    chunks = []
    while chunk := os.read(child.stdout, 65536):
        chunks.append(chunk)
    os.close(child.stdout)
    os.close(child.stderr)
    return child.wait(), b"".join(chunks).decode()


def test_the_command_is_found_in_the_plugins_path_only(tmp_path: Path) -> None:
    (tmp_path / "only-here").write_text("#!/bin/sh\necho found\n")
    (tmp_path / "only-here").chmod(0o755)
    assert run(["only-here"], {"PATH": f"/bin:{tmp_path}"}) == (0, "found\n")
    with pytest.raises(FileNotFoundError, match="only-here"):
        spawn(["only-here"], {"PATH": "/bin"})
    (tmp_path / "not-executable").write_text("#!/bin/sh\n")
    with pytest.raises(PermissionError, match="not-executable"):
        spawn(["not-executable"], {"PATH": str(tmp_path)})


def test_ignored_signals_are_back_to_their_defaults() -> None:
    """Python ignores SIGPIPE and SIGXFSZ; a plugin (`yes | head`) must not."""
    _, status = run(["grep", "SigIgn", "/proc/self/status"], {"PATH": "/bin:/usr/bin"})
    ignored = int(status.split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))
    assert not ignored & (1 << (signal.SIGXFSZ - 1))


def test_its_own_session_and_stdin_from_dev_null() -> None:
    _, text = run(
        ["sh", "-c", "ps -o sid= -p $$; ps -o pid= -p $$; readlink /proc/self/fd/0"],
        {"PATH": "/bin:/usr/bin"},
    )
    sid, pid, stdin = text.split()
    assert sid == pid and stdin == "/dev/null"


def test_descriptors_the_agent_inherited_are_not_passed_on(tmp_path: Path) -> None:
    """In a fresh interpreter holding an inheritable descriptor (50), as a parent may leave
    one: the plugin sees 0, 1, 2 and its own listing's descriptor."""
    code = textwrap.dedent(
        f"""
        import os
        from sabamon.agent.plugins.spawn import spawn
        os.dup2(os.open({str(tmp_path)!r}, os.O_RDONLY), 50, inheritable=True)
        child = spawn(["ls", "/proc/self/fd"], {{"PATH": "/bin:/usr/bin"}})
        print(os.read(child.stdout, 4096).decode(), end="")
        """
    )
    listed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    assert "50" not in listed and len(listed) == 4, listed
