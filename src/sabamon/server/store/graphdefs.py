"""Graph definition steps."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .ops import Query, Step, Upsert, lock_org
from .records import GraphDef, NotFound


def upsert_graph_defs(
    org_id: str, defs: Sequence[GraphDef], max_count: int
) -> Step[tuple[int, int] | None]:
    """Creates or replaces `defs` unless the organisation would then hold more than
    `max_count` definitions: then nothing is written and the answer is (definitions
    stored, names new in `defs`). The count and the write are one transaction, the
    organisation's row locked first (PostgreSQL; SQLite has one writer), so concurrent
    posts never pass `max_count` together."""
    by_name = {d.name: d for d in defs}  # the last definition of a name wins
    yield from lock_org(org_id)
    rows = yield Query("SELECT name FROM graph_defs WHERE org_id = ?", (org_id,))
    stored = {row[0] for row in rows}
    new = len(by_name.keys() - stored)
    if len(stored) + new > max_count:
        return len(stored), new
    yield Upsert(
        "graph_defs",
        ("org_id", "name", "display_name", "unit", "metrics"),
        ("text", "text", "text", "text", "text"),
        "(org_id, name) DO UPDATE SET display_name = excluded.display_name, "
        "unit = excluded.unit, metrics = excluded.metrics",
        [(org_id, d.name, d.display_name, d.unit, json.dumps(d.metrics))
         for _, d in sorted(by_name.items())],
    )  # fmt: skip
    return None


def delete_graph_def(org_id: str, name: str) -> Step[None]:
    deleted = yield Query(
        "DELETE FROM graph_defs WHERE org_id = ? AND name = ?", (org_id, name), count=True
    )
    if not deleted:
        raise NotFound(f"graph definition {name!r} not found")


def list_graph_defs(org_id: str) -> Step[list[GraphDef]]:
    rows = yield Query(
        "SELECT name, display_name, unit, metrics FROM graph_defs WHERE org_id = ? ORDER BY name",
        (org_id,),
    )
    return [GraphDef(name, shown, unit, json.loads(metrics)) for name, shown, unit, metrics in rows]
