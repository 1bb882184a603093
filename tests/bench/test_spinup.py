"""`sabamon bench spinup`: real server processes, timed to their first 200."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_spinup_reports_cold_and_warm_starts(tmp_path: Path) -> None:
    report_path = tmp_path / "spinup.json"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "sabamon.cli", "bench", "spinup", "--runs", "2"),
            *("--data", str(tmp_path / "data"), "--json", str(report_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "cold (new data folder):" in done.stdout and "warm:" in done.stdout
    report = json.loads(report_path.read_text())
    assert len(report["seconds"]) == 2
    assert all(0 < seconds < 60 for seconds in report["seconds"])
    assert report["cold"] == report["seconds"][0]
    assert report["warm_median"] == report["seconds"][1]
    assert (tmp_path / "data" / "apikey").exists(), "the first run bootstrapped the folder"


def test_a_server_that_cannot_start_is_reported(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sabamon.cli",
            "bench",
            "spinup",
            "--runs",
            "1",
            "--data",
            str(blocked),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "the server exited with" in done.stderr
