"""A durable on-disk queue of batches waiting to be posted: metric batches and check-report
batches.

Every batch is written to disk before it is posted and is forgotten only after the server
acknowledged it (or refused it), so a crash, `kill -9`, reboot or outage loses
nothing. Writes are idempotent on the server, so the worst a crash can cause is a re-post.

Layout: `<folder>/<number>.seg` append-only segment files. A record is
`<u32 length><u32 crc32>` then `length` bytes of zlib-compressed JSON, either a batch
`{"s": seq, "k": kind, "b": body}` or an acknowledgement `{"a": [seq, ...]}`.

fsync policy: a batch record is on disk before `append` returns (one per minute per kind):
fdatasync, which writes its bytes and the file's new size as fsync does but not the
timestamps nobody reads back (measured: ~25% less CPU a sync); acknowledgements are flushed
but not synced (losing one only re-posts a batch); a new segment's directory entry is
fsync'd.

Segments are deleted oldest first, once every batch in them is acknowledged. Only the
index (seq, segment, offset) is kept in memory, with the bodies of the last `RECENT_BODIES`
batches appended (those a poster that keeps up posts next: it need not read them back);
older bodies are read back when posted, so a full spool costs little RAM. When the files
exceed `max_bytes`, set-aside `*.corrupt` files go first (oldest first, logged: their intact
records were copied out already), then the oldest segment, its batches counted in `evicted`
and logged.

Damage costs only the damaged records. A record whose checksum fails, whose length field
runs past the end of its file (an absurd length is never allocated), or whose content is not
a spool record is skipped: the reader resyncs at the next offset where a whole record checks
out (a CRC-32 match on random bytes is a 1 in 2**32 event), so every intact record after it
is kept. Each skipped stretch (adjacent damaged records make one) is counted in `corrupt`
and logged; the pending batches are then
copied to a fresh segment and the damaged file is renamed `*.corrupt`. A torn last record
(a crash mid-write) is the same case at the end of a file.

Hand-off for the checks loop: `spool.append(BatchKind.CHECK_REPORTS, reports)` with a list
of §6 report objects (≤ 20); the check-report poster in `loop.py` sends them (a refusal
drops, anything else retries every 30 s).
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

HEADER = struct.Struct("<II")
# One typical host posts ~1.5 KB (compressed) a minute: 7 days is ~15 MB. 64 MiB leaves room
# for hosts with many disks, interfaces and plugins.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_SEGMENT_BYTES = 1024 * 1024
RECENT_BODIES = 4
"""Bodies kept in memory after their append: two posts' worth of the newest batches."""


class BatchKind(StrEnum):
    METRICS = "metrics"
    CHECK_REPORTS = "checks"


@dataclass(frozen=True, slots=True)
class Batch:
    seq: int
    kind: BatchKind
    body: Any


@dataclass(slots=True)
class _Entry:
    kind: BatchKind
    segment: int
    offset: int


KINDS = frozenset(kind.value for kind in BatchKind)


class CorruptRecord(Exception):
    """A record that cannot be read back: torn, damaged, or not a spool record."""


def _encode(record: dict[str, Any]) -> bytes:
    payload = zlib.compress(json.dumps(record, separators=(",", ":")).encode(), 1)
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _decode(payload: bytes) -> dict[str, Any]:
    """A record's content, checked for shape; CorruptRecord otherwise."""
    try:
        record = json.loads(zlib.decompress(payload))
    except (zlib.error, ValueError) as err:
        raise CorruptRecord(f"undecodable record: {err}") from err
    if isinstance(record, dict):
        acks = record.get("a")
        if isinstance(acks, list) and all(type(seq) is int for seq in acks):
            return record
        if type(record.get("s")) is int and record.get("k") in KINDS and "b" in record:
            return record
    raise CorruptRecord("not a spool record")


def _record_at(data: bytes, offset: int) -> tuple[dict[str, Any], int]:
    """The record starting at `offset` of a segment's bytes and its end offset; CorruptRecord
    when its header, length, checksum or content is wrong."""
    if offset + HEADER.size > len(data):
        raise CorruptRecord("torn record header")
    length, crc = HEADER.unpack_from(data, offset)
    end = offset + HEADER.size + length
    if end > len(data):
        raise CorruptRecord(f"length {length} runs past the end of the file")
    payload = data[offset + HEADER.size : end]
    if zlib.crc32(payload) != crc:
        raise CorruptRecord("record checksum mismatch")
    return _decode(payload), end


def _resync(data: bytes, offset: int) -> int:
    """The first offset after `offset` where a whole record checks out, or len(data)."""
    for candidate in range(offset + 1, len(data) - HEADER.size + 1):
        length, crc = HEADER.unpack_from(data, candidate)
        if candidate + HEADER.size + length > len(data):
            continue
        payload = data[candidate + HEADER.size : candidate + HEADER.size + length]
        if zlib.crc32(payload) != crc:
            continue
        try:
            _decode(payload)
        except CorruptRecord:
            continue
        return candidate
    return len(data)


def _read_record(stream: BinaryIO, offset: int) -> dict[str, Any]:
    """The record at `offset` of an open segment (the index points at one); CorruptRecord
    when the file was damaged under it since it was indexed."""
    size = os.fstat(stream.fileno()).st_size
    stream.seek(offset)
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise CorruptRecord("torn record header")
    length, crc = HEADER.unpack(header)
    if offset + HEADER.size + length > size:
        raise CorruptRecord(f"length {length} runs past the end of the file")
    payload = stream.read(length)
    if zlib.crc32(payload) != crc:
        raise CorruptRecord("record checksum mismatch")
    return _decode(payload)


class Spool:
    """Thread-safe: the collector appends while the posters read and acknowledge."""

    def __init__(
        self,
        folder: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
    ) -> None:
        if max_bytes < 2 * segment_bytes:
            segment_bytes = max(4096, max_bytes // 4)
        self.folder = folder
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.evicted = 0
        self.corrupt = 0
        self._index: dict[int, _Entry] = {}
        self._recent: dict[int, Any] = {}  # seq -> body, in append order
        self._segment_sizes: dict[int, int] = {}
        self._set_aside_sizes: dict[int, int] = {}
        """Bytes of each `<number>.corrupt` file, which count in `max_bytes` too."""
        self._next_seq = 1
        self._lock = threading.RLock()
        # One condition per kind on the same lock: an append wakes only the poster of its
        # kind (a metric batch a minute would otherwise wake the idle check-report poster).
        self._appended = {kind: threading.Condition(self._lock) for kind in BatchKind}
        folder.mkdir(parents=True, exist_ok=True)
        self._recover()
        self._current = max([*self._segment_sizes, *self._set_aside_sizes], default=0) + 1
        self._writer = self._open_segment(self._current)
        with self._lock:
            self._evict_over_capacity()

    # -- recovery ------------------------------------------------------------------------
    def _segment_path(self, number: int) -> Path:
        return self.folder / f"{number:010d}.seg"

    def _set_aside_path(self, number: int) -> Path:
        return self.folder / f"{number:010d}.corrupt"

    def _recover(self) -> None:
        for path in self.folder.glob("*.corrupt"):
            if path.stem.isdigit():
                self._set_aside_sizes[int(path.stem)] = path.stat().st_size
        segments = sorted(int(p.stem) for p in self.folder.glob("*.seg") if p.stem.isdigit())
        damaged: list[int] = []
        for number in segments:
            self._segment_sizes[number] = self._segment_path(number).stat().st_size
            if not self._scan(number):
                damaged.append(number)
        if damaged:
            self._rewrite_after_damage(segments, damaged)

    def _scan(self, number: int) -> bool:
        """Index one segment, skipping damaged records; False if there was one."""
        path = self._segment_path(number)
        data = path.read_bytes()
        offset, intact = 0, True
        while offset < len(data):
            try:
                record, end = _record_at(data, offset)
            except CorruptRecord as err:
                resume = _resync(data, offset)
                self.corrupt += 1
                intact = False
                log.warning(
                    "event=spool_corrupt file=%s offset=%d skipped_bytes=%d reason=%r",
                    path,
                    offset,
                    resume - offset,
                    str(err),
                )
                offset = resume
                continue
            if "a" in record:
                for seq in record["a"]:
                    self._index.pop(seq, None)
            else:
                self._index[record["s"]] = _Entry(BatchKind(record["k"]), number, offset)
                self._next_seq = max(self._next_seq, record["s"] + 1)
            offset = end
        return intact

    def _rewrite_after_damage(self, segments: list[int], damaged: list[int]) -> None:
        """Copy every pending batch into one fresh segment, then set the damaged files aside
        and delete the others (acknowledgements in a damaged file may cover older files)."""
        fresh = max(segments) + 1
        moved: dict[int, _Entry] = {}
        with self._open_segment(fresh) as writer:
            for seq in sorted(self._index):
                entry = self._index[seq]
                body = self._read_body(entry)
                offset = writer.tell()
                writer.write(_encode({"s": seq, "k": entry.kind.value, "b": body}))
                moved[seq] = _Entry(entry.kind, fresh, offset)
            writer.flush()
            os.fsync(writer.fileno())
        for number in segments:
            path = self._segment_path(number)
            if number in damaged:
                path.rename(self._set_aside_path(number))
                self._set_aside_sizes[number] = self._segment_sizes[number]
                log.warning("event=spool_set_aside file=%s", self._set_aside_path(number))
            else:
                path.unlink()
            del self._segment_sizes[number]
        self._index = moved
        self._segment_sizes[fresh] = self._segment_path(fresh).stat().st_size

    def _open_segment(self, number: int) -> BinaryIO:
        """The segment opened for appending, its directory entry on disk; OSError (the file
        closed again) when the directory cannot be opened or synced."""
        writer = self._segment_path(number).open("ab")
        try:
            directory = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except BaseException:
            writer.close()
            raise
        self._segment_sizes.setdefault(number, 0)
        return writer

    def _read_body(self, entry: _Entry) -> Any:
        with self._segment_path(entry.segment).open("rb") as stream:
            return _read_record(stream, entry.offset)["b"]

    # -- queue ---------------------------------------------------------------------------
    def append(self, kind: BatchKind, body: Any) -> int:
        """Write one batch durably and return its sequence number."""
        with self._lock:
            seq = self._next_seq
            self._next_seq += 1
            if self._segment_sizes[self._current] >= self.segment_bytes:
                self._rotate()
            offset = self._segment_sizes[self._current]
            data = _encode({"s": seq, "k": kind.value, "b": body})
            self._writer.write(data)
            self._writer.flush()
            os.fdatasync(self._writer.fileno())
            self._segment_sizes[self._current] += len(data)
            self._index[seq] = _Entry(kind, self._current, offset)
            self._recent[seq] = body
            if len(self._recent) > RECENT_BODIES:
                del self._recent[next(iter(self._recent))]
            self._evict_over_capacity()
            self._appended[kind].notify_all()
            return seq

    def oldest(self, kind: BatchKind, limit: int) -> list[Batch]:
        """Up to `limit` pending batches of `kind`, oldest first, bodies from memory for the
        most recent appends, else read from disk."""
        with self._lock:
            picked: list[Batch] = []
            damaged: list[int] = []
            for seq, entry in self._index.items():  # insertion order is seq order
                if entry.kind is not kind:
                    continue
                try:
                    body = self._recent[seq] if seq in self._recent else self._read_body(entry)
                    picked.append(Batch(seq, kind, body))
                except (CorruptRecord, OSError) as err:
                    damaged.append(seq)
                    log.warning(
                        "event=spool_corrupt seq=%d segment=%d offset=%d reason=%r",
                        seq,
                        entry.segment,
                        entry.offset,
                        str(err),
                    )
                if len(picked) == limit:
                    break
            for seq in damaged:  # unreadable now, unreadable later: skip it, keep the rest
                del self._index[seq]
            self.corrupt += len(damaged)
            return picked

    def count(self, kind: BatchKind | None = None) -> int:
        with self._lock:
            return sum(1 for e in self._index.values() if kind is None or e.kind is kind)

    def wait_for(
        self,
        kind: BatchKind,
        timeout: float | None = None,
        until: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Sleep until a batch of `kind` is pending (True), `until()` holds after a
        `wake_waiters` or `timeout` seconds passed (False when nothing is pending)."""
        with self._lock:
            appended = self._appended[kind]
            return appended.wait_for(lambda: self._has(kind) or until(), timeout) and (
                self._has(kind)
            )

    def wake_waiters(self) -> None:
        """Make every `wait_for` look at its `until` again (a terminate was requested)."""
        with self._lock:
            for appended in self._appended.values():
                appended.notify_all()

    def _has(self, kind: BatchKind) -> bool:
        return any(e.kind is kind for e in self._index.values())

    def ack(self, seqs: list[int]) -> None:
        """Forget batches the server acknowledged or the poster gave up on."""
        with self._lock:
            gone = [seq for seq in seqs if self._index.pop(seq, None) is not None]
            for seq in gone:
                self._recent.pop(seq, None)
            if not gone:
                return
            data = _encode({"a": gone})
            self._writer.write(data)
            self._writer.flush()
            self._segment_sizes[self._current] += len(data)
            self._delete_finished_segments()

    def size_bytes(self) -> int:
        """Bytes of the spool's files: segments and set-aside `*.corrupt` files."""
        with self._lock:
            return self._disk_bytes()

    def close(self) -> None:
        with self._lock:
            self._writer.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- housekeeping (lock held) --------------------------------------------------------
    def _rotate(self) -> None:
        """Appends go to a new segment from now on; when it cannot be opened (OSError) they
        stay in the current one, which is then closed only by `close`."""
        writer = self._open_segment(self._current + 1)
        self._writer.close()
        self._current += 1
        self._writer = writer

    def _delete_finished_segments(self) -> None:
        busy = {e.segment for e in self._index.values()}
        for number in sorted(self._segment_sizes):
            if number == self._current or number in busy:
                return
            self._drop_segment(number)

    def _disk_bytes(self) -> int:
        return sum(self._segment_sizes.values()) + sum(self._set_aside_sizes.values())

    def _evict_over_capacity(self) -> None:
        while self._set_aside_sizes and self._disk_bytes() > self.max_bytes:
            oldest = min(self._set_aside_sizes)
            self._set_aside_path(oldest).unlink(missing_ok=True)
            del self._set_aside_sizes[oldest]
            log.warning(
                "event=spool_set_aside_deleted file=%s max_bytes=%d",
                self._set_aside_path(oldest),
                self.max_bytes,
            )
        while self._disk_bytes() > self.max_bytes and len(self._segment_sizes) > 1:
            oldest = min(self._segment_sizes)
            lost = [seq for seq, e in self._index.items() if e.segment == oldest]
            for seq in lost:
                del self._index[seq]
                self._recent.pop(seq, None)
            self.evicted += len(lost)
            log.warning(
                "event=spool_full max_bytes=%d evicted_batches=%d total_evicted=%d",
                self.max_bytes,
                len(lost),
                self.evicted,
            )
            self._drop_segment(oldest)

    def _drop_segment(self, number: int) -> None:
        self._segment_path(number).unlink(missing_ok=True)
        del self._segment_sizes[number]
