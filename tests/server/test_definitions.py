"""The definition rules both faces call: the default notification group is made once
however many first uses race, and it cannot be deleted."""

from __future__ import annotations

import asyncio
import time

import pytest
from tests.server.alerts.conftest import org_id, store

from sabamon.server import definitions
from sabamon.server.definitions import DefinitionError
from sabamon.server.state import ServerState, TtlCache
from sabamon.server.store import Store
from sabamon.server.telemetry import Telemetry

__all__ = ["org_id", "store"]


def server_state(store: Store) -> ServerState:
    return ServerState(
        store, time.time, Telemetry(), TtlCache(time.monotonic), TtlCache(time.monotonic)
    )


async def test_racing_first_uses_make_one_default_group(store: Store, org_id: str) -> None:
    state = server_state(store)
    channel = await definitions.create_channel(
        state, org_id, {"type": "webhook", "name": "hook", "url": "http://127.0.0.1:9/"}
    )
    groups = await asyncio.gather(*(definitions.default_group(state, org_id) for _ in range(8)))
    assert len({group.id for group in groups}) == 1
    stored = await store.list_documents(org_id, "notification_group")
    assert [group.id for group in stored] == [groups[0].id]
    assert stored[0].spec["childChannelIds"] == [channel.id]


async def test_the_default_group_cannot_be_deleted(store: Store, org_id: str) -> None:
    state = server_state(store)
    default = await definitions.default_group(state, org_id)
    with pytest.raises(DefinitionError, match="default notification group cannot be deleted"):
        await definitions.delete_group(state, org_id, default.id)
    team = await definitions.create_group(state, org_id, {"name": "team"})
    assert (await definitions.delete_group(state, org_id, team.id)).id == team.id
    assert [g.id for g in await definitions.list_groups(state, org_id)] == [default.id]
    with pytest.raises(DefinitionError, match="name"):
        await definitions.create_group(state, org_id, {"name": ""})
