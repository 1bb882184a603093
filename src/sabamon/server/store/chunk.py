"""Sealed chunks: one series' points (or 5-minute rollups) of one window in one blob.

A chunk holds columns of numbers, each compressed with pcodec, which measured best on
this project's series (bench/storage.py: about 2 bytes a point on the NAB servers' CPU,
network and disk series at day-long chunks against zstd's 3.3; about 1 byte for load,
memory and counter rates). Times are stored as offsets from the window start.

Layout (little-endian): version (1 byte) | CRC-32 of the rest (4) | for each column:
length (4) | pcodec bytes. A flipped byte anywhere fails the CRC or the decoder and
raises `CorruptChunk`, which names the series and window so the caller can report it and
read the rest of the series.

Raw chunk columns: offset (int64 s), value (float64).
Rollup chunk columns: bucket offset (int64 s), total (float64), count (int64).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np
from pcodec import ChunkConfig, standalone

VERSION = 1
_HEADER = struct.Struct("<BI")
_LENGTH = struct.Struct("<I")
_CONFIG = ChunkConfig()


class CorruptChunk(Exception):
    """A chunk that fails its checksum or does not decode."""

    def __init__(self, series_id: int, start: int, detail: str) -> None:
        super().__init__(f"corrupt chunk of series {series_id} window starting {start}: {detail}")
        self.series_id = series_id
        self.start = start


def encode(columns: Sequence[np.ndarray]) -> bytes:
    """One blob holding `columns` (equal lengths, int64 or float64 arrays)."""
    parts: list[bytes] = []
    for column in columns:
        packed = standalone.simple_compress(np.ascontiguousarray(column), _CONFIG)
        parts += [_LENGTH.pack(len(packed)), packed]
    body = b"".join(parts)
    return _HEADER.pack(VERSION, zlib.crc32(body)) + body


def decode(blob: bytes, series_id: int, start: int) -> list[np.ndarray]:
    """The columns of a blob made by `encode`; raises CorruptChunk naming the window."""
    blob = bytes(blob)
    if len(blob) < _HEADER.size:
        raise CorruptChunk(series_id, start, "truncated header")
    version, crc = _HEADER.unpack_from(blob)
    body = memoryview(blob)[_HEADER.size :]
    if version != VERSION:
        raise CorruptChunk(series_id, start, f"unknown version {version}")
    if zlib.crc32(body) != crc:
        raise CorruptChunk(series_id, start, "checksum mismatch")
    columns: list[np.ndarray] = []
    at = 0
    try:
        while at < len(body):
            (length,) = _LENGTH.unpack_from(body, at)
            at += _LENGTH.size
            columns.append(standalone.simple_decompress(bytes(body[at : at + length])))
            at += length
    except Exception as error:  # pcodec raises its own error types for bad input
        raise CorruptChunk(series_id, start, f"undecodable: {error}") from error
    return columns


def encode_raw(start: int, times: np.ndarray, values: np.ndarray) -> bytes:
    return encode([times.astype(np.int64) - start, values.astype(np.float64)])


def decode_raw(blob: bytes, series_id: int, start: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of a raw chunk."""
    columns = decode(blob, series_id, start)
    if len(columns) != 2 or len(columns[0]) != len(columns[1]):
        raise CorruptChunk(series_id, start, "raw chunk without two equal columns")
    return columns[0] + start, columns[1]


def encode_rollup(start: int, buckets: np.ndarray, totals: np.ndarray, counts: np.ndarray) -> bytes:
    return encode(
        [buckets.astype(np.int64) - start, totals.astype(np.float64), counts.astype(np.int64)]
    )


def decode_rollup(
    blob: bytes, series_id: int, start: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bucket starts, totals, counts) of a rollup chunk."""
    columns = decode(blob, series_id, start)
    if len(columns) != 3 or not len(columns[0]) == len(columns[1]) == len(columns[2]):
        raise CorruptChunk(series_id, start, "rollup chunk without three equal columns")
    return columns[0] + start, columns[1], columns[2]
