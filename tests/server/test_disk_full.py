"""A full data disk, on a real `sabamon server` whose SQLite database lives on a small
tmpfs: writes get 503 with Retry-After on the same keep-alive connection, /healthz says
the store cannot write, the log has one line per kind of error, and writing resumes by
itself once space is back."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.server import ServerProcess, running_server


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs (mounting needs root: the test is skipped without it)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def post(http: httpx.Client, host_id: str, batch: int) -> httpx.Response:
    now = int(time.time())
    points = [
        {"hostId": host_id, "name": f"fill.b{batch}.m{i}", "time": now, "value": i}
        for i in range(200)
    ]
    return http.post("/api/v0/tsdb", json=points)


def test_a_full_disk_is_503_with_retry_after_and_recovers(small_disk: Path) -> None:
    with running_server(small_disk / "data") as server, server.client() as http:
        host_id = http.post("/api/v0/hosts", json={"name": "h", "meta": {}}).json()["id"]
        filler = small_disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):  # until the disk is full
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        answers = [post(http, host_id, batch) for batch in range(40)]
        refused = [a for a in answers if a.status_code != 200]
        assert refused, "the disk never filled"
        assert {a.status_code for a in refused} == {503}
        assert refused[-1].headers["retry-after"] == "30"
        assert refused[-1].json() == {
            "error": {"message": "The store cannot write now; retry after a while."}
        }
        assert "close" not in refused[-1].headers.get("connection", "")
        health = httpx.get(server.url + "/healthz", timeout=5)
        assert health.status_code == 503
        assert health.json() == {"status": "store cannot write (disk full or failing)"}
        filler.unlink()
        assert post(http, host_id, 1000).status_code == 200
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    assert_logged_once_per_kind(server)


def assert_logged_once_per_kind(server: ServerProcess) -> None:
    lines = [line for line in server.log().splitlines() if "store_unwritable" in line]
    kinds = {line.split("error=")[1].split(" held_back")[0] for line in lines}
    assert lines and len(lines) == len(kinds), lines
    assert "Traceback" not in server.log()
