"""`sabamon server --series-store`: where the series live, chosen on the command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.server import running_server

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store import open_series_store
from sabamon.server.victoria.store import VictoriaSeriesStore

PG = "postgresql://postgres@127.0.0.1:5432/test"


def test_the_database_forms_keep_series_beside_the_metadata() -> None:
    assert open_series_store(None, None) is None
    assert open_series_store("sqlite", None) is None
    assert open_series_store("postgresql", PG) is None
    with pytest.raises(ValueError, match="beside the metadata, which is sqlite here"):
        open_series_store("postgresql", None)
    with pytest.raises(ValueError, match="which is postgresql here"):
        open_series_store("sqlite", PG)


def test_a_url_names_victoria_single_node_or_cluster() -> None:
    single = open_series_store("http://vm:8428", None)
    assert isinstance(single, VictoriaSeriesStore)
    assert single.description == "VictoriaMetrics http://vm:8428"
    cluster = open_series_store(
        "http://vminsert:8480/insert/3/prometheus,http://vmselect:8481/select/3/prometheus", PG
    )
    assert isinstance(cluster, VictoriaSeriesStore)
    assert cluster.description == (
        "VictoriaMetrics cluster http://vminsert:8480 + http://vmselect:8481 tenant 3"
    )


def test_a_bad_value_stops_the_server_before_it_starts(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "sabamon.cli", "server", "--data", str(tmp_path)),
            *("--series-store", "http://vminsert:8480/insert/0/prometheus"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        "--series-store: series store 'http://vminsert:8480/insert/0/prometheus': a "
        "cluster needs both URLs" in done.stderr
    )


@pytest.mark.victoria
def test_a_server_process_writes_its_series_to_victoria(
    tmp_path: Path, victoria: VictoriaProcess
) -> None:
    now = int(time.time()) // 60 * 60
    with (
        running_server(tmp_path / "data", "--series-store", victoria.url) as server,
        server.client() as client,
    ):
        host = client.post("/api/v0/hosts", json={"name": "cli-host", "meta": {}}).json()
        points = [{"hostId": host["id"], "name": "cli.metric", "time": now, "value": 4.5}]
        assert client.post("/api/v0/tsdb", json=points).status_code == 200
        victoria.flush()
        got = client.get(
            f"/api/v0/hosts/{host['id']}/metrics",
            params={"name": "cli.metric", "from": now - 60, "to": now},
        )
        assert got.json() == {"metrics": [{"time": now, "value": 4.5}]}
    assert "cli.metric" not in (tmp_path / "data").joinpath("sabamon.db").read_bytes().decode(
        errors="replace"
    )
