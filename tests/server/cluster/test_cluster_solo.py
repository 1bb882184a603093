"""A single-process server never loads the cluster's Redis client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SERVE_ONE_REQUEST = """
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from sabamon.server import cli
from sabamon.server.app import create_app

app = create_app(cli.make_store(None, Path(sys.argv[1])))
with TestClient(app) as client:
    assert client.get("/healthz").status_code == 200
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} & {"redis", "psycopg"})))
"""


def test_a_single_process_server_does_not_import_redis(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_REQUEST, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
