"""Numeric columns sent to PostgreSQL as binary arrays, packed by numpy.

A point write sends each column of its rows as one array for `unnest` (`postgres.py`).
psycopg adapts a list element by element in Python, and a text literal needs `str()` of
every value (a float's shortest repr is the largest cost); packing the array in
PostgreSQL's binary format with numpy costs neither, and the server parses it faster too.
Measured for 20,000 rows of three bigint columns and one float8 column: client CPU 21 ms as
text literals, 48 ms as lists, 7 ms packed; the statement's wall time 35 ms as text, 15 ms
packed. Values round-trip exactly (-0.0, subnormals, the extremes).

The binary array format (PostgreSQL's `array_send`): int32 dimensions (1), int32 flags (0),
int32 element type oid, then per dimension int32 length and int32 lower bound (1), then per
element int32 byte length and the element, all big-endian.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg.abc import AdaptContext
from psycopg.adapt import Dumper
from psycopg.pq import Format

INT8_OID, FLOAT8_OID = 20, 701
INT8_ARRAY_OID, FLOAT8_ARRAY_OID = 1016, 1022


class Int8Array(bytes):
    """A bigint[] in PostgreSQL's binary format."""


class Float8Array(bytes):
    """A float8[] in PostgreSQL's binary format."""


class _Int8ArrayDumper(Dumper):
    format = Format.BINARY
    oid = INT8_ARRAY_OID

    def dump(self, obj: Any) -> bytes:
        return bytes(obj)


class _Float8ArrayDumper(Dumper):
    format = Format.BINARY
    oid = FLOAT8_ARRAY_OID

    def dump(self, obj: Any) -> bytes:
        return bytes(obj)


def register(conn: AdaptContext) -> None:
    """Teaches `conn` to send `Int8Array` and `Float8Array` parameters as they are."""
    conn.adapters.register_dumper(Int8Array, _Int8ArrayDumper)
    conn.adapters.register_dumper(Float8Array, _Float8ArrayDumper)


def _pack(values: Sequence[Any], dtype: str, element_oid: int) -> bytes:
    body = np.empty(len(values), dtype=[("size", ">i4"), ("value", dtype)])
    body["size"] = 8
    body["value"] = values
    return np.array([1, 0, element_oid, len(values), 1], ">i4").tobytes() + body.tobytes()


def numeric_array(values: Sequence[Any], pg_type: str) -> Int8Array | Float8Array | None:
    """`values` packed as a `pg_type` ("bigint" or "float8") array, or None when they are
    not all of that kind (ints within 64 bits; ints or floats) and need psycopg's own
    adaptation."""
    kinds = set(map(type, values))
    try:
        if pg_type == "bigint" and kinds <= {int}:
            return Int8Array(_pack(values, ">i8", INT8_OID))
        if pg_type == "float8" and kinds <= {int, float}:
            return Float8Array(_pack(values, ">f8", FLOAT8_OID))
    except OverflowError:  # an int beyond 64 bits: psycopg says what is wrong with it
        return None
    return None
