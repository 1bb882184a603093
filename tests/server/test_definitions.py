"""The definition rules both faces call: the default notification group is made once
however many first uses race, and it cannot be deleted; each kind is bounded per organisation
however many creations race; a group names only channels, groups and monitors that exist."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.server.alerts.conftest import org_id, store

from sabamon.server import definitions
from sabamon.server.definitions import MAX_DEFINITIONS, DefinitionError
from sabamon.server.state import ServerState, TtlCache
from sabamon.server.store import Store
from sabamon.server.store.records import CheckReport, Document, DocumentKind
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


CREATIONS: dict[DocumentKind, tuple[Callable[..., Awaitable[Any]], dict[str, Any]]] = {
    "monitor": (
        definitions.create_monitor,
        {"type": "host", "name": "load", "metric": "loadavg5", "operator": ">", "warning": 1.0},
    ),
    "channel": (
        definitions.create_channel,
        {"type": "webhook", "name": "hook", "url": "http://127.0.0.1:9/"},
    ),
    "downtime": (definitions.create_downtime, {"name": "deploy", "start": 1, "duration": 30}),
    "notification_group": (definitions.create_group, {"name": "team"}),
    "alert_group_setting": (definitions.create_alert_group_setting, {"name": "web"}),
}


@pytest.mark.parametrize("kind", list(CREATIONS))
async def test_an_organisation_holds_a_bounded_number_of_each_kind(
    store: Store, org_id: str, kind: DocumentKind
) -> None:
    """With one place left, of eight racing creations exactly one is stored and the others
    are refused naming the kind: the count is taken in the insert's transaction."""
    state = server_state(store)
    create, body = CREATIONS[kind]
    await definitions.default_group(state, org_id)  # counted among the groups
    held = len(await store.list_documents(org_id, kind))
    for number in range(held, MAX_DEFINITIONS[kind] - 1):
        spec = {**body, "type": body.get("type", "group")}
        await store.put_document(org_id, kind, Document(f"filler{number}", spec), 0)
    results = await asyncio.gather(
        *(create(state, org_id, body) for _ in range(8)), return_exceptions=True
    )
    refusals = [r for r in results if isinstance(r, DefinitionError)]
    assert len(refusals) == 7, results
    plural = {
        "channel": "notification channels",
        "notification_group": "notification groups",
        "alert_group_setting": "alert group settings",
    }
    limit = MAX_DEFINITIONS[kind]
    message = f"{plural.get(kind, kind + 's')}: an organisation holds at most {limit}"
    assert str(refusals[0]).startswith(message), refusals[0]
    assert len(await store.list_documents(org_id, kind)) == MAX_DEFINITIONS[kind]


async def test_a_group_names_only_what_exists(store: Store, org_id: str) -> None:
    state = server_state(store)
    hook = await definitions.create_channel(
        state, org_id, {"type": "webhook", "name": "hook", "url": "http://127.0.0.1:9/"}
    )
    monitor = await definitions.create_monitor(state, org_id, CREATIONS["monitor"][1])
    now = int(time.time())
    await store.write_check_reports(org_id, [CheckReport("h1", "ssh", "OK", "", now)], now)
    [(check_id, _)] = await store.list_check_monitors(org_id, None, 10)
    team = await definitions.create_group(state, org_id, {"name": "team"})
    refused = [
        ({"childChannelIds": [hook.id, "nope"]}, "childChannelIds[1]: no notification channel"),
        ({"childNotificationGroupIds": ["gone"]}, "childNotificationGroupIds[0]: no notification"),
        ({"monitors": [{"id": monitor.id}, {"id": "x"}]}, "monitors[1].id: no monitor 'x'"),
    ]
    for fields, message in refused:
        with pytest.raises(DefinitionError, match=re.escape(message)):
            await definitions.create_group(state, org_id, {"name": "bad", **fields})
        with pytest.raises(DefinitionError, match=re.escape(message)):
            await definitions.update_group(state, org_id, team.id, {"name": "team", **fields})
    good = {
        "name": "team",
        "childChannelIds": [hook.id],
        "childNotificationGroupIds": [team.id],
        "monitors": [{"id": monitor.id}, {"id": check_id}],
    }
    await definitions.update_group(state, org_id, team.id, good)
    assert (await store.get_document(org_id, "notification_group", team.id)).spec["monitors"] == [
        {"id": monitor.id, "skipDefault": False},
        {"id": check_id, "skipDefault": False},
    ]
    assert len(await store.list_documents(org_id, "notification_group")) == 2  # default, team
    await definitions.delete_channel(state, org_id, hook.id)  # and from the group with it
    read = await store.get_document(org_id, "notification_group", team.id)
    assert read.spec["childChannelIds"] == []
    with pytest.raises(DefinitionError, match=re.escape("childChannelIds[0]: no notification")):
        await definitions.update_group(state, org_id, team.id, good)
    await definitions.update_group(state, org_id, team.id, read.spec)  # read and written back
