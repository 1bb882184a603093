"""The durable spool on real files: order, acknowledgement, capacity, damage."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sabamon.agent.spool import RECENT_BODIES, BatchKind, Spool

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
    reopened.close()


def test_acknowledged_segments_are_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=4096)
    for i in range(200):
        spool.append(M, [{"name": f"metric.{i}", "value": float(i)} for _ in range(20)])
    assert len(list(tmp_path.glob("*.seg"))) > 2
    spool.ack([b.seq for b in spool.oldest(M, 1000)])
    spool.append(M, [])
    assert len(list(tmp_path.glob("*.seg"))) == 1
    spool.close()


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
    spool.close()


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
    with Spool(tmp_path) as again:
        assert [b.body[0]["value"] for b in again.oldest(M, 10)] == [0, 1, 9]


def test_set_aside_files_count_in_max_bytes_and_go_before_any_batch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Damage found at every start sets a file aside each time: with the segments they stay
    within `max_bytes`, the oldest set-aside file deleted first, before any pending batch."""
    max_bytes = 65536
    spool = Spool(tmp_path, max_bytes=max_bytes, segment_bytes=8192)
    spool.append(M, [{"value": "kept"}])
    for start in range(12):
        noise = [random.Random(i).randbytes(1500).hex() for i in range(10)]
        batches = [spool.append(M, [{"value": start, "noise": text}]) for text in noise]
        spool.ack(batches)
        spool.close()
        current = max(tmp_path.glob("*.seg"))
        first, _ = record_spans(current)[0]
        data = bytearray(current.read_bytes())
        data[first + 20] ^= 0x01  # an acknowledged batch's record: nothing comes back
        current.write_bytes(bytes(data))
        with caplog.at_level(logging.WARNING):
            spool = Spool(tmp_path, max_bytes=max_bytes, segment_bytes=8192)
        on_disk = sum(path.stat().st_size for path in tmp_path.iterdir())
        assert on_disk <= max_bytes, (start, on_disk)
        assert spool.size_bytes() == on_disk
    assert len(list(tmp_path.glob("*.corrupt"))) < 12
    assert "event=spool_set_aside_deleted" in caplog.text
    assert [b.body for b in spool.oldest(M, 10)] == [[{"value": "kept"}]]
    assert spool.evicted == 0
    spool.close()


def record_spans(segment: Path) -> list[tuple[int, int]]:
    """(start, end) of each record of an intact segment, in file order."""
    data, spans, offset = segment.read_bytes(), [], 0
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        spans.append((offset, offset + 8 + length))
        offset += 8 + length
    return spans


def test_a_flipped_payload_byte_costs_only_that_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path)
    for i in range(45):
        spool.append(M, [{"value": i}])
    spool.close()
    segment = next(tmp_path.glob("*.seg"))
    start, end = record_spans(segment)[9]
    data = bytearray(segment.read_bytes())
    data[(start + 8 + end) // 2] ^= 0x01  # one bit in the payload of the tenth record
    segment.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        reopened = Spool(tmp_path)
    assert [b.body[0]["value"] for b in reopened.oldest(M, 100)] == [i for i in range(45) if i != 9]
    assert reopened.corrupt == 1
    assert "event=spool_corrupt" in caplog.text and list(tmp_path.glob("*.corrupt"))
    reopened.close()


def test_an_absurd_length_field_is_corruption_not_an_allocation(tmp_path: Path) -> None:
    """The agent starts under `ulimit -v 1048576` (1 GiB) with a record claiming ~4 GiB."""
    spool = Spool(tmp_path)
    for i in range(5):
        spool.append(M, [{"value": i}])
    spool.close()
    segment = next(tmp_path.glob("*.seg"))
    start, _ = record_spans(segment)[2]
    data = bytearray(segment.read_bytes())
    struct.pack_into("<I", data, start, 0xFFFFFFF0)
    segment.write_bytes(bytes(data))
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from pathlib import Path\n"
        "from sabamon.agent.spool import RECENT_BODIES, BatchKind, Spool\n"
        "spool = Spool(Path(sys.argv[1]))\n"
        "print([b.body[0]['value'] for b in spool.oldest(BatchKind.METRICS, 10)], spool.corrupt)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[0, 1, 3, 4] 1"


def test_a_record_damaged_after_indexing_is_skipped_when_read(tmp_path: Path) -> None:
    """The second of 4 + RECENT_BODIES batches: its body is no longer kept in memory."""
    spool = Spool(tmp_path)
    for i in range(4 + RECENT_BODIES):
        spool.append(M, [{"value": i}])
    segment = next(tmp_path.glob("*.seg"))
    _, end = record_spans(segment)[1]
    with segment.open("r+b") as stream:
        stream.seek(end - 1)
        last = stream.read(1)
        stream.seek(end - 1)
        stream.write(bytes([last[0] ^ 0xFF]))
    kept = [0, *range(2, 4 + RECENT_BODIES)]
    assert [b.body[0]["value"] for b in spool.oldest(M, 10)] == kept
    assert spool.corrupt == 1 and spool.count(M) == len(kept)
    spool.close()


def test_the_newest_batches_are_handed_back_without_reading_the_file(tmp_path: Path) -> None:
    """A poster that keeps up posts what was just appended, as appended: the file is not read
    back (here it was emptied under the spool); a reopened spool reads the file."""
    spool = Spool(tmp_path)
    for i in range(RECENT_BODIES):
        spool.append(M, [{"value": i}])
    segment = next(tmp_path.glob("*.seg"))
    segment.write_bytes(b"")
    assert [b.body[0]["value"] for b in spool.oldest(M, 10)] == list(range(RECENT_BODIES))
    assert spool.corrupt == 0
    spool.close()
    with Spool(tmp_path) as reopened:
        assert reopened.oldest(M, 10) == []


@settings(max_examples=60, deadline=None)
@given(
    batches=st.integers(min_value=1, max_value=40),
    acked=st.sets(st.integers(min_value=0, max_value=39), max_size=15),
    damage=st.lists(
        st.tuples(st.floats(min_value=0, max_value=1, exclude_max=True), st.integers(1, 255)),
        min_size=1,
        max_size=6,
    ),
)
def test_random_damage_loses_exactly_the_damaged_records(
    batches: int, acked: set[int], damage: list[tuple[float, int]]
) -> None:
    """Bytes changed anywhere in the segments: a batch is lost only if its own record was hit;
    a batch comes back only if the record acknowledging it was hit."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        spool = Spool(root, max_bytes=1 << 20, segment_bytes=4096)
        seqs = [
            spool.append(M, [{"value": i, "pad": "x" * (i * 37 % 300)}]) for i in range(batches)
        ]
        acks = [seqs[i] for i in sorted(acked) if i < batches]
        for seq in acks:
            spool.ack([seq])  # one acknowledgement record per batch
        spool.close()
        segments = sorted(root.glob("*.seg"))
        layout = [(segment, span) for segment in segments for span in record_spans(segment)]
        # which batch each record carries (written in order: batches, then acks)
        owners = [("batch", seq) for seq in seqs] + [("ack", seq) for seq in acks]
        assert len(owners) == len(layout)
        total = sum(segment.stat().st_size for segment in segments)
        hit: set[int] = set()
        positions = {int(where * total): xor for where, xor in damage}  # distinct bytes
        for position, xor in positions.items():
            for segment in segments:
                size = segment.stat().st_size
                if position < size:
                    data = bytearray(segment.read_bytes())
                    data[position] ^= xor
                    segment.write_bytes(bytes(data))
                    hit |= {
                        n
                        for n, (seg, (start, end)) in enumerate(layout)
                        if seg == segment and start <= position < end
                    }
                    break
                position -= size
        lost = {owners[n][1] for n in hit if owners[n][0] == "batch"}
        unacked = {owners[n][1] for n in hit if owners[n][0] == "ack"}
        expected = [s for s in seqs if s not in lost and (s not in acks or s in unacked)]
        reopened = Spool(root, max_bytes=1 << 20, segment_bytes=4096)
        assert [b.seq for b in reopened.oldest(M, 1000)] == expected
        # adjacent damaged records are skipped as one stretch
        assert (reopened.corrupt > 0) == bool(hit) and reopened.corrupt <= len(hit)
        reopened.close()


def test_an_append_wakes_only_the_waiters_of_its_kind(tmp_path: Path) -> None:
    """The check-report poster sleeps through the metric batch of each minute: only a check
    batch or a terminate (`wake_waiters`) makes it look again."""
    spool = Spool(tmp_path)
    looks: list[threading.Event] = [threading.Event() for _ in range(3)]
    done = threading.Event()

    def until() -> bool:  # evaluated once on entry, then once per wake-up
        next(event for event in looks if not event.is_set()).set()
        return done.is_set()

    waiter = threading.Thread(
        target=lambda: spool.wait_for(BatchKind.CHECK_REPORTS, timeout=30, until=until)
    )
    waiter.start()
    assert looks[0].wait(10)
    spool.append(M, [{"value": 1}])
    assert not looks[1].wait(0.2)  # a woken waiter looks within microseconds
    done.set()
    spool.wake_waiters()
    waiter.join(10)
    assert looks[1].is_set() and not looks[2].is_set() and not waiter.is_alive()
    spool.close()


def open_files_under(folder: Path) -> list[str]:
    """The paths under `folder` this process holds open (from /proc/self/fd)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(folder)):
                held.append(target)
    return held


def failing_fsync(fd: int) -> None:
    raise OSError(errno.EIO, "directory sync failed")


def test_a_failed_directory_sync_leaves_no_segment_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spool syncs the directory only when it opens a segment (appends use fdatasync),
    so a failing `os.fsync` fails just that step."""
    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", failing_fsync)
        with pytest.raises(OSError, match="directory sync failed"):
            Spool(tmp_path / "a")
    assert open_files_under(tmp_path) == []

    spool = Spool(tmp_path / "b", max_bytes=1 << 20, segment_bytes=4096)
    spool.append(M, [{"blob": os.urandom(4096).hex()}])  # the next append rotates
    with monkeypatch.context() as patched:
        patched.setattr(os, "fsync", failing_fsync)
        with pytest.raises(OSError, match="directory sync failed"):
            spool.append(M, [{"value": 1}])
    assert open_files_under(tmp_path) == [str(tmp_path / "b" / "0000000001.seg")]
    spool.append(M, [{"value": 2}])  # into the segment it kept
    spool.close()
    assert open_files_under(tmp_path) == []
    reopened = Spool(tmp_path / "b")
    assert [b.body for b in reopened.oldest(M, 10)][1:] == [[{"value": 2}]]
    reopened.close()
