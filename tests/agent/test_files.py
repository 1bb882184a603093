"""Pidfile, id file and init rules, on real files and real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sabamon.agent.idfile import IdFileError, load_host_id, save_host_id
from sabamon.agent.pidfile import PidfileError, create_pidfile, remove_pidfile


def test_pidfile_written_reused_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "run" / "agent.pid"
    create_pidfile(path)
    assert path.read_text() == str(os.getpid())
    create_pidfile(path)  # our own pid: reused
    remove_pidfile(path)
    assert not path.exists()


def test_pidfile_of_a_running_agent_refuses(tmp_path: Path) -> None:
    path = tmp_path / "agent.pid"
    # A process running the same program: this interpreter, with a first argument of the
    # same name as ours (a script file of that name that sleeps).
    ours = Path("/proc/self/cmdline").read_bytes().split(b"\0")
    same_name = tmp_path / "twin" / Path(ours[1].decode()).name
    same_name.parent.mkdir()
    same_name.write_text("import time\ntime.sleep(30)\n")
    twin = subprocess.Popen([sys.executable, str(same_name)])
    try:
        path.write_text(str(twin.pid))
        other = subprocess.Popen(["sleep", "30"])
        try:
            with pytest.raises(PidfileError):
                create_pidfile(path)
            path.write_text(str(other.pid))  # a live process of another program: stale
            create_pidfile(path)
            assert path.read_text() == str(os.getpid())
        finally:
            other.kill()
            other.wait()
    finally:
        twin.kill()
        twin.wait()


def test_malformed_pidfile_is_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "agent.pid"
    path.write_text("not a pid")
    create_pidfile(path)
    assert path.read_text() == str(os.getpid())


def test_id_file_round_trip_and_empty(tmp_path: Path) -> None:
    assert load_host_id(tmp_path) is None
    save_host_id(tmp_path / "root", "abcXYZ")
    assert (tmp_path / "root" / "id").read_text() == "abcXYZ"
    (tmp_path / "root" / "id").write_text("abcXYZ\r\n")
    assert load_host_id(tmp_path / "root") == "abcXYZ"
    (tmp_path / "root" / "id").write_text("\n")
    with pytest.raises(IdFileError, match="empty"):
        load_host_id(tmp_path / "root")


def test_init_prepends_the_apikey(tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "agent.conf"
    base = [sys.executable, "-m", "sabamon.cli", "agent", "init", "--conf", str(conf)]
    assert subprocess.run(base, capture_output=True, check=False).returncode == 1  # no key
    conf.parent.mkdir()
    conf.write_text('display_name = "web"\n')
    assert subprocess.run([*base, "--apikey", "K1"], check=False).returncode == 0
    assert conf.read_text() == 'apikey = "K1"\ndisplay_name = "web"\n'
    assert subprocess.run([*base, "--apikey", "K2"], check=False).returncode == 0
    assert conf.read_text().startswith('apikey = "K1"')  # an existing key is kept
