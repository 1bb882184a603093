"""sabamon.ring against stathat/consistent's own test vectors and properties."""

from __future__ import annotations

import threading
import zlib
from bisect import bisect_right

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sabamon.ring
from sabamon.ring import EmptyRingError, Ring, fnv1a_hash

ABC = ["abcdefg", "hijklmn", "opqrstu"]
CACHES = ["cacheA", "cacheB", "cacheC"]


def ring_of(members: list[str], use_fnv: bool = False) -> Ring:
    ring = Ring(use_fnv=use_fnv)
    for member in members:
        ring.add(member)
    return ring


def test_public_names_are_pinned() -> None:
    assert sabamon.ring.__all__ == ["EmptyRingError", "Ring"]


def test_hashes_match_go() -> None:
    assert zlib.crc32(b"123456789") == 0xCBF43926
    assert fnv1a_hash(b"") == 0x811C9DC5
    assert fnv1a_hash(b"a") == 0xE40C292C
    assert fnv1a_hash(b"foobar") == 0xBF9CF968


def test_new_ring_has_twenty_replicas_and_is_empty() -> None:
    ring = Ring()
    assert ring.replicas == 20
    with pytest.raises(EmptyRingError, match="empty circle"):
        ring.get("anything")
    with pytest.raises(EmptyRingError):
        ring.get_two("anything")
    with pytest.raises(EmptyRingError):
        ring.get_n("anything", 2)


def test_bad_replicas_is_refused() -> None:
    with pytest.raises(ValueError, match="replicas"):
        Ring(replicas=0)


def test_sizes_after_add_and_remove() -> None:
    ring = ring_of(["abcdefg"])
    assert len(ring) == 20
    ring.add("hijklmn")
    assert len(ring) == 40
    ring.remove("hijklmn")
    ring.remove("not-a-member")
    assert len(ring) == 20
    assert ring.members() == ["abcdefg"]


def test_upstream_get_vectors() -> None:
    ring = ring_of(ABC)
    assert [ring.get(k) for k in ("ggg", "hhh", "iiiii")] == ["abcdefg", "opqrstu", "hijklmn"]
    ring.remove("hijklmn")
    assert [ring.get(k) for k in ("ggg", "hhh", "iiiii")] == ["abcdefg", "opqrstu", "opqrstu"]


def test_upstream_get_two_and_get_n_vectors() -> None:
    ring = ring_of(ABC)
    assert ring.get_two("99999999") == ("abcdefg", "hijklmn")
    assert ring.get_n("9999999", 3) == ["opqrstu", "abcdefg", "hijklmn"]
    assert ring.get_n("9999999", 5) == ["opqrstu", "abcdefg", "hijklmn"]
    assert ring.get_n("99999999", 2) == ["abcdefg", "hijklmn"]


def test_upstream_single_member_vectors() -> None:
    ring = ring_of(["abcdefg"])
    assert ring.get_two("99999999") == ("abcdefg", "")
    assert {ring.get(f"key{i}") for i in range(500)} == {"abcdefg"}


def test_upstream_cache_examples() -> None:
    users = ["user_mcnulty", "user_bunk", "user_omar", "user_bunny", "user_stringer"]
    ring = ring_of(CACHES)
    assert [ring.get(u) for u in users] == ["cacheA", "cacheA", "cacheA", "cacheC", "cacheC"]
    ring.add("cacheD")
    ring.add("cacheE")
    assert [ring.get(u) for u in users] == ["cacheE", "cacheA", "cacheA", "cacheE", "cacheE"]
    ring = ring_of(CACHES)
    ring.remove("cacheC")
    assert [ring.get(u) for u in users] == ["cacheA", "cacheA", "cacheA", "cacheB", "cacheB"]


def test_upstream_set_vectors() -> None:
    ring = ring_of(["abc", "def", "ghi"])
    ring.set(["abc", "def", "ghi", "jkl", "mno"])
    assert ring.get("xxxxxxx") == "def"
    ring.set(["pqr", "stu", "vwx"])
    assert ring.members() == ["pqr", "stu", "vwx"]
    assert ring.get("xxxxxxx") == "vwx"
    ring.set(["abc", "def"])
    assert len(ring.get_n("any", 5)) == 2  # get_n is capped by the count, now 2


def test_add_collision_is_order_independent() -> None:
    one = ring_of(["abear", "solidiform"])
    other = ring_of(["solidiform", "abear"])
    assert one.get("abear") == other.get("abear")


def test_duplicate_add_does_not_hang() -> None:
    """Upstream issue #32: GetTwo("k25") never returns after Add("solo") twice."""
    ring = ring_of(["solo", "solo"])
    assert ring.get_two("k0") == ("solo", "solo")
    assert ring.get_two("k25") == ("solo", "solo")
    assert ring.get_n("k25", 2) == ["solo"]


def test_bogus_remove_lowers_the_count_as_upstream() -> None:
    ring = ring_of(["a-host", "b-host"])
    ring.remove("ghost")
    first, second = ring.get_two("key")
    assert second == ""
    assert first in {"a-host", "b-host"}


def test_fnv_ring_uses_fnv_points() -> None:
    ring = ring_of(ABC, use_fnv=True)
    reference = Reference(use_fnv=True)
    for member in ABC:
        reference.add(member)
    assert [ring.get(f"k{i}") for i in range(200)] == [reference.get(f"k{i}") for i in range(200)]


class Reference:
    """A line-by-line transliteration of upstream's ring, used as an oracle.

    The only change is a step budget on the walks, so the oracle ends where upstream
    would hang.
    """

    def __init__(self, use_fnv: bool = False) -> None:
        self.circle: dict[int, str] = {}
        self.members: set[str] = set()
        self.count = 0
        self.hash = fnv1a_hash if use_fnv else zlib.crc32

    def add(self, elt: str) -> None:
        for i in range(20):
            self.circle[self.hash(f"{i}{elt}".encode())] = elt
        self.members.add(elt)
        self.count += 1

    def remove(self, elt: str) -> None:
        for i in range(20):
            self.circle.pop(self.hash(f"{i}{elt}".encode()), None)
        self.members.discard(elt)
        self.count -= 1

    def search(self, name: str) -> tuple[list[int], int]:
        hashes = sorted(self.circle)
        i = bisect_right(hashes, self.hash(name.encode()))
        return hashes, 0 if i >= len(hashes) else i

    def get(self, name: str) -> str:
        hashes, i = self.search(name)
        return self.circle[hashes[i]]

    def get_two(self, name: str) -> tuple[str, str]:
        hashes, start = self.search(name)
        a = self.circle[hashes[start]]
        if self.count == 1:
            return a, ""
        b, i, steps = "", start + 1, 0
        while i != start and steps <= len(hashes):
            if i >= len(hashes):
                i = 0
            b = self.circle[hashes[i]]
            if b != a:
                break
            i, steps = i + 1, steps + 1
        return a, b

    def get_n(self, name: str, n: int) -> list[str]:
        n = min(n, self.count)
        hashes, start = self.search(name)
        res = [self.circle[hashes[start]]]
        if len(res) == n:
            return res
        i, steps = start + 1, 0
        while i != start and steps <= len(hashes):
            if i >= len(hashes):
                i = 0
            elem = self.circle[hashes[i]]
            if elem not in res:
                res.append(elem)
            if len(res) == n:
                break
            i, steps = i + 1, steps + 1
        return res


names = st.text(alphabet="abcdefghij-0123456789é", min_size=1, max_size=8)
operations = st.lists(st.tuples(st.sampled_from(["add", "remove", "set"]), names), max_size=12)


@settings(max_examples=150, deadline=None)
@given(operations, st.lists(names, min_size=1, max_size=20), st.integers(-1, 6))
def test_answers_equal_the_reference(ops: list[tuple[str, str]], keys: list[str], n: int) -> None:
    ring, reference = Ring(), Reference()
    for op, member in ops:
        if op == "set":
            wanted = [*sorted(ring.members())[1:], member]
            for gone in reference.members - set(wanted):
                reference.remove(gone)
            for new in wanted:
                if new not in reference.members:
                    reference.add(new)
            ring.set(wanted)
        else:
            getattr(ring, op)(member)
            getattr(reference, op)(member)
    assert ring.members() == sorted(reference.members)
    for key in keys:
        if not reference.circle:
            with pytest.raises(EmptyRingError):
                ring.get(key)
            continue
        assert ring.get(key) == reference.get(key)
        assert ring.get_two(key) == reference.get_two(key)
        assert ring.get_n(key, n) == reference.get_n(key, n)


@settings(max_examples=60, deadline=None)
@given(st.sets(names, min_size=2, max_size=12), st.lists(names, min_size=1, max_size=50))
def test_remove_moves_only_the_removed_members_keys(members: set[str], keys: list[str]) -> None:
    ring = ring_of(sorted(members))
    before = {key: ring.get(key) for key in keys}
    assert before == {key: ring.get(key) for key in keys}  # stable
    gone = sorted(members)[0]
    ring.remove(gone)
    for key, owner in before.items():
        if owner != gone:
            assert ring.get(key) == owner


@settings(max_examples=60, deadline=None)
@given(st.sets(names, min_size=1, max_size=12), names, st.integers(1, 15))
def test_get_n_gives_distinct_members(members: set[str], key: str, n: int) -> None:
    ring = ring_of(sorted(members))
    found = ring.get_n(key, n)
    assert len(found) == len(set(found)) == min(n, len(members))
    assert set(found) <= members
    assert found[0] == ring.get(key)


def test_readers_never_see_a_half_built_ring() -> None:
    """A writer flips between two disjoint member sets; readers must see one or the other."""
    blue = [f"blue-{i}" for i in range(8)]
    green = [f"green-{i}" for i in range(8)]
    ring = ring_of(blue)
    writer_done = threading.Event()
    readers_done = threading.Event()
    torn: list[list[str]] = []
    flips = [0]

    def writer() -> None:
        while not readers_done.is_set():
            ring.set(green)
            ring.set(blue)
            flips[0] += 1
        writer_done.set()

    def reader(key: str) -> None:
        for _ in range(3000):
            seen = ring.get_n(key, 20)
            if sorted(seen) not in (blue, green):
                torn.append(seen)

    readers = [threading.Thread(target=reader, args=(f"key-{i}",)) for i in range(3)]
    threading.Thread(target=writer).start()
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    readers_done.set()
    assert writer_done.wait(5)
    assert flips[0] > 10
    assert torn == []
