"""Consistent hashing that gives the same answers as stathat/consistent.

Every member owns ``replicas`` points on a 32-bit circle, named ``str(i) + member`` and
hashed with CRC-32 IEEE (or FNV-1a) over UTF-8. A key belongs to the owner of the first
point strictly greater than its hash, wrapping to the first point. Points that collide go
to the member added last. The member ``count`` keeps upstream's quirks (a duplicate ``add``
raises it, removing a non-member lowers it) because ``get_two`` and ``get_n`` read it.

Unlike upstream, walks around the circle stop after one lap, so they never hang.

Readers take no lock: every change builds a new immutable :class:`_Snapshot` under the
writers' lock and swaps it in with one attribute store, so a reader sees a whole ring,
old or new, never a half-built one.
"""

from __future__ import annotations

import threading
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = ["EmptyRingError", "Ring"]

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


class EmptyRingError(LookupError):
    """Raised by a lookup on a ring with no points (upstream's ``ErrEmptyCircle``)."""

    def __init__(self) -> None:
        super().__init__("empty circle")


def crc32_hash(data: bytes) -> int:
    """CRC-32 IEEE, the same as Go's ``crc32.ChecksumIEEE``."""
    return zlib.crc32(data)


def fnv1a_hash(data: bytes) -> int:
    """32-bit FNV-1a, the same as Go's ``fnv.New32a``."""
    value = _FNV32_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return value


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One immutable state of the ring; never changed after it is published."""

    circle: dict[int, str] = field(default_factory=dict)
    members: frozenset[str] = frozenset()
    count: int = 0
    points: tuple[int, ...] = ()
    # owners[i] owns points[i]; one extra entry (the first owner) makes the wrap free.
    owners: tuple[str, ...] = ()

    @classmethod
    def build(cls, circle: dict[int, str], members: frozenset[str], count: int) -> _Snapshot:
        points = tuple(sorted(circle))
        owners = tuple(circle[point] for point in points)
        return cls(circle, members, count, points, owners + owners[:1])


class Ring:
    """A consistent-hash ring of string members; safe to share between threads."""

    def __init__(self, replicas: int = 20, use_fnv: bool = False) -> None:
        if replicas < 1:
            raise ValueError(f"Ring replicas must be at least 1, got {replicas}")
        self._replicas = replicas
        self._hash: Callable[[bytes], int] = fnv1a_hash if use_fnv else crc32_hash
        self._write_lock = threading.Lock()
        self._snapshot = _Snapshot()

    @property
    def replicas(self) -> int:
        return self._replicas

    def _point_hashes(self, member: str) -> list[int]:
        return [self._hash(f"{i}{member}".encode()) for i in range(self._replicas)]

    def _with_added(self, snap: _Snapshot, member: str) -> _Snapshot:
        circle = dict(snap.circle)
        for point in self._point_hashes(member):
            circle[point] = member
        return _Snapshot.build(circle, snap.members | {member}, snap.count + 1)

    def _with_removed(self, snap: _Snapshot, member: str) -> _Snapshot:
        circle = dict(snap.circle)
        for point in self._point_hashes(member):
            circle.pop(point, None)
        return _Snapshot.build(circle, snap.members - {member}, snap.count - 1)

    def add(self, member: str) -> None:
        """Add ``member``'s points; adding it again still raises the count, as upstream."""
        with self._write_lock:
            self._snapshot = self._with_added(self._snapshot, member)

    def remove(self, member: str) -> None:
        """Delete ``member``'s points; removing a non-member still lowers the count."""
        with self._write_lock:
            self._snapshot = self._with_removed(self._snapshot, member)

    def set(self, members: Iterable[str]) -> None:
        """Make the ring hold exactly ``members``, in one swap."""
        wanted = list(members)
        with self._write_lock:
            snap = self._snapshot
            for member in sorted(snap.members.difference(wanted)):
                snap = self._with_removed(snap, member)
            for member in wanted:
                if member not in snap.members:
                    snap = self._with_added(snap, member)
            self._snapshot = snap

    def members(self) -> list[str]:
        """The current members, sorted (upstream returns them in random map order)."""
        return sorted(self._snapshot.members)

    def __len__(self) -> int:
        """The number of points on the circle."""
        return len(self._snapshot.points)

    def get(self, key: str) -> str:
        """The member that owns ``key``."""
        snap = self._snapshot
        if not snap.points:
            raise EmptyRingError
        return snap.owners[bisect_right(snap.points, self._hash(key.encode()))]

    def get_two(self, key: str) -> tuple[str, str]:
        """The owner of ``key`` and the next different member going round the circle.

        The second is ``""`` when the count is 1, and the owner again when no other member
        holds a point (upstream's answer in the cases where its walk ends).
        """
        snap = self._snapshot
        if not snap.points:
            raise EmptyRingError
        start = self._start_index(snap, key)
        first = snap.owners[start]
        if snap.count == 1:
            return first, ""
        for owner in self._lap_after(snap, start):
            if owner != first:
                return first, owner
        return first, first

    def get_n(self, key: str, n: int) -> list[str]:
        """Up to ``n`` distinct members going round the circle from the owner of ``key``.

        ``n`` is capped by the count; a cap at or below zero walks the whole lap, as
        upstream does when its walk ends.
        """
        snap = self._snapshot
        if not snap.points:
            raise EmptyRingError
        n = min(n, snap.count)
        start = self._start_index(snap, key)
        found = [snap.owners[start]]
        if len(found) == n:
            return found
        for owner in self._lap_after(snap, start):
            if owner not in found:
                found.append(owner)
                if len(found) == n:
                    break
        return found

    def _start_index(self, snap: _Snapshot, key: str) -> int:
        index = bisect_right(snap.points, self._hash(key.encode()))
        return 0 if index == len(snap.points) else index

    @staticmethod
    def _lap_after(snap: _Snapshot, start: int) -> Iterable[str]:
        """Owners of every other point, going round from ``start``: one lap, then stop.

        Upstream's loop never ends when ``start`` is 0 and it finds no other owner; one
        lap visits the same points its loop visits whenever that loop does end.
        """
        size = len(snap.points)
        for step in range(1, size):
            yield snap.owners[(start + step) % size]
