"""The cyclic garbage collector's settings in a server process (a worker or the maintainer).

Python's collector makes a young-generation pass each time 700 more objects have been
allocated than freed, and a full pass every hundred of those; a full pass walks every
object the process holds, the imported modules' included (FastAPI's routes and models,
pydantic's validators, psycopg's adapters). Under ingest a worker allocates a few objects a
point, and with the defaults full passes ran about twice a second at about 100 ms each:
a third of the worker's CPU at 40,000 points/s on PostgreSQL (measured with `gc.callbacks`
during bench/ingest.py). The objects a process makes as it starts are never garbage:
`gc.freeze` takes them out of every pass, and a young generation of `YOUNG_THRESHOLD`
objects makes passes rarer (bench/ingest.py: 19.6 µs of server CPU a point with the
defaults, 15.7 after the freeze alone, 11.6 with both). Garbage without reference cycles,
nearly all of a request's, is freed by reference counting at once whatever these settings;
only cycles wait longer for a pass.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
"""Objects allocated net between young-generation passes (Python's default: 700)."""


def settle() -> None:
    """Freezes what the process holds now and spaces the passes out; call once, after the
    process has built what it keeps for its life (the app, the store)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
