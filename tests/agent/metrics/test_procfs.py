"""read_proc: a whole file in one pass, bytes kept as file names keep them."""

from __future__ import annotations

import os
from pathlib import Path

from sabamon.agent.metrics.procfs import read_proc


def test_a_file_longer_than_one_read_is_read_whole(tmp_path: Path) -> None:
    text = "".join(f"line {i}\n" for i in range(30_000))  # ~300 KB, several reads
    (tmp_path / "big").write_text(text)
    assert read_proc(tmp_path / "big") == text


def test_undecodable_bytes_round_trip_as_file_names_do(tmp_path: Path) -> None:
    raw = b"/dev/sda1 /mnt/caf\xe9 ext4 rw 0 0\n"
    (tmp_path / "mounts").write_bytes(raw)
    text = read_proc(tmp_path / "mounts")
    assert os.fsencode(text) == raw
    assert text.split()[1] == os.fsdecode(b"/mnt/caf\xe9")


def test_a_live_proc_file() -> None:
    assert read_proc(Path("/proc/loadavg")).count(" ") == 4
