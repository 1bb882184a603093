"""Lookups per second of sabamon.ring: the median of 5 runs, with 10 and 100 members.

The Go original does about 10 million Get/s; the target here is at least 1 million.
Run: .venv/bin/python bench/ring.py [--runs 5] [--keys 10000]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

import worktree  # noqa: F401  (this tree's code first)

from sabamon.ring import Ring


def calls_per_second(lookup: Callable[[str], object], keys: list[str]) -> float:
    started = time.perf_counter()
    for key in keys:
        lookup(key)
    return len(keys) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keys", type=int, default=200_000)
    args = parser.parse_args()
    keys = [f"user_{i}" for i in range(args.keys)]
    print(f"ring lookups, median of {args.runs} runs over {args.keys} keys")
    for size in (10, 100):
        ring = Ring()
        ring.set(f"host-{i}.example" for i in range(size))
        lookups: dict[str, Callable[[str], object]] = {
            "get": ring.get,
            "get_two": ring.get_two,
            "get_n(3)": functools.partial(ring.get_n, n=3),
        }
        for name, lookup in lookups.items():
            rates = [calls_per_second(lookup, keys) for _ in range(args.runs)]
            print(f"members={size:<4} {name:<9} {statistics.median(rates) / 1e6:6.2f} M/s")


if __name__ == "__main__":
    main()
