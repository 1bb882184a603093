"""The durable spool on real files: order, acknowledgement, capacity, damage."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from sabamon.agent.spool import BatchKind, Spool

M = BatchKind.METRICS


def test_pending_batches_survive_reopen_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(5):
        spool.append(M, [{"value": i}])
    spool.append(BatchKind.CHECK_REPORTS, [{"name": "ssh"}])
    spool.ack([b.seq for b in spool.oldest(M, 2)])
    spool.close()
    reopened = Spool(tmp_path)
    assert [b.body[0]["value"] for b in reopened.oldest(M, 10)] == [2, 3, 4]
    assert reopened.oldest(BatchKind.CHECK_REPORTS, 10)[0].body == [{"name": "ssh"}]


def test_acknowledged_segments_are_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=4096)
    for i in range(200):
        spool.append(M, [{"name": f"metric.{i}", "value": float(i)} for _ in range(20)])
    assert len(list(tmp_path.glob("*.seg"))) > 2
    spool.ack([b.seq for b in spool.oldest(M, 1000)])
    spool.append(M, [])
    assert len(list(tmp_path.glob("*.seg"))) == 1


def test_full_spool_drops_the_oldest_and_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path, max_bytes=65536, segment_bytes=8192)
    with caplog.at_level(logging.WARNING):
        for i in range(400):
            spool.append(
                M, [{"name": f"n{i}", "value": i, "noise": random.Random(i).randbytes(200).hex()}]
            )
    assert spool.evicted > 0 and spool.size_bytes() <= 65536 + 8192
    assert spool.count(M) + spool.evicted == 400
    assert spool.oldest(M, 1)[0].body[0]["value"] == spool.evicted  # oldest went first
    assert "event=spool_full" in caplog.text


def test_corrupt_file_is_set_aside_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path)
    for i in range(3):
        spool.append(M, [{"value": i}])
    spool.close()
    segment = next(tmp_path.glob("*.seg"))
    data = segment.read_bytes()
    segment.write_bytes(data[:-3] + b"\xff\xff\xff")  # damage the last record
    with caplog.at_level(logging.WARNING):
        reopened = Spool(tmp_path)
    assert [b.body[0]["value"] for b in reopened.oldest(M, 10)] == [0, 1]
    assert list(tmp_path.glob("*.corrupt"))
    assert "event=spool_corrupt" in caplog.text
    reopened.append(M, [{"value": 9}])
    reopened.close()
    assert [b.body[0]["value"] for b in Spool(tmp_path).oldest(M, 10)] == [0, 1, 9]
