"""Graph definition steps."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .ops import Query, Step, Upsert
from .records import GraphDef, NotFound


def upsert_graph_defs(org_id: str, defs: Sequence[GraphDef]) -> Step[None]:
    by_name = {d.name: d for d in defs}  # the last definition of a name wins
    yield Upsert(
        "graph_defs",
        ("org_id", "name", "display_name", "unit", "metrics"),
        ("text", "text", "text", "text", "text"),
        "(org_id, name) DO UPDATE SET display_name = excluded.display_name, "
        "unit = excluded.unit, metrics = excluded.metrics",
        [(org_id, d.name, d.display_name, d.unit, json.dumps(d.metrics))
         for _, d in sorted(by_name.items())],
    )  # fmt: skip


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
