"""Which member owns which monitor: a consistent-hash ring over the live members."""

from __future__ import annotations

from collections.abc import Iterable

from sabamon.ring import EmptyRingError, Ring

# More points per member than stathat's 20 even out the CRC-32 arcs (20 points gave one of
# three members 44 % of the circle); the ring is private to the cluster, so no
# compatibility is lost.
REPLICAS = 160


class Assignment:
    """Answers "do I own monitor X" without a lock, from the ring's current snapshot."""

    def __init__(self, me: str, replicas: int = REPLICAS) -> None:
        self.me = me
        self._ring = Ring(replicas=replicas)
        self._members: frozenset[str] = frozenset()

    @property
    def members(self) -> frozenset[str]:
        return self._members

    def update(self, members: Iterable[str]) -> bool:
        """Rebuild the ring when the member set changed; True if it did."""
        wanted = frozenset(members)
        if wanted == self._members:
            return False
        self._ring.set(sorted(wanted))
        self._members = wanted
        return True

    def owner(self, key: str) -> str | None:
        """The member that owns ``key``; None when there are no members."""
        try:
            return self._ring.get(key)
        except EmptyRingError:
            return None

    def owns(self, key: str) -> bool:
        return self.owner(key) == self.me
