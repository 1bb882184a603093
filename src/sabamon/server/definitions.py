"""The rules for definitions that both faces follow: the API (`api/`) and the dashboard
(`web/`) call these functions and turn their errors into their own answers.

Monitors (api.md §6): validated by `validate_monitor` (its type cannot change); deleting
one closes its open alerts (`Closer.delete_monitor`). Downtimes (api.md §9): validated by
`validate_downtime`. Notification channels and groups (api.md §8): every organisation has
one default group,
created on first use with every channel in it, that cannot be deleted; a channel may join
it when created; a test notification queues the channel's sample body. A group names only
channels, groups and monitors (check monitors included) that exist; deleting one removes it
from every group in the deletion's transaction (`store.alerts_ops.delete_document`).

An organisation holds at most `MAX_DEFINITIONS` of each kind (Mackerel documents no such
bound; the alert engine reads every monitor, downtime, group and channel each minute, and
every alert group setting is stored and listed whole), counted in the creation's own
transaction.

Errors: `DefinitionError` (a rule refused: the API answers 400, a page shows the message
beside its form) and the store's `NotFound` (no such definition: 404 on either face).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from sabamon.server.alerts.alert_groups import validate_alert_group_setting
from sabamon.server.alerts.closing import Closer
from sabamon.server.alerts.downtimes import validate_downtime
from sabamon.server.alerts.monitors import Monitor, validate_monitor
from sabamon.server.notify.channels import validate_channel
from sabamon.server.notify.groups import validate_group
from sabamon.server.notify.payload import sample_body
from sabamon.server.state import ServerState
from sabamon.server.store.records import Document, DocumentKind, NewDelivery, new_id, stable_id

T = TypeVar("T")
GROUP: Final = "notification_group"
DEFAULT_GROUP_TYPE = "group-default"
MAX_DEFINITIONS: Final[dict[DocumentKind, int]] = {
    "monitor": 1000,
    "channel": 100,
    "downtime": 1000,
    GROUP: 100,  # the default group included
    "alert_group_setting": 100,
}
"""Definitions of each kind one organisation may hold; past it a creation is a 400."""
_PLURALS: Final[dict[DocumentKind, str]] = {
    "monitor": "monitors",
    "channel": "notification channels",
    "downtime": "downtimes",
    GROUP: "notification groups",
    "alert_group_setting": "alert group settings",
}
_GROUP_REFERENCES: Final[tuple[tuple[str, DocumentKind, str], ...]] = (
    ("childChannelIds", "channel", "notification channel"),
    ("childNotificationGroupIds", GROUP, "notification group"),
    ("monitors", "monitor", "monitor"),
)


class DefinitionError(ValueError):
    """A definition a rule refuses; the message names the field or the rule."""


def checked(validate: Callable[..., T], *args: Any) -> T:
    """Runs a validator; its ValueError (naming the field) becomes a DefinitionError."""
    try:
        return validate(*args)
    except ValueError as exc:
        raise DefinitionError(str(exc)) from None


def reachable(state: ServerState, spec: dict[str, Any]) -> dict[str, Any]:
    """The channel or monitor spec, unless its `url` is a literal address outside the
    outbound networks (DefinitionError naming the field)."""
    url = spec.get("url")
    refusal = state.outbound.refusal("url", url) if isinstance(url, str) else None
    if refusal:
        raise DefinitionError(refusal)
    return spec


async def insert(state: ServerState, org_id: str, kind: DocumentKind, doc: Document) -> None:
    """Stores a new definition; DefinitionError when the organisation holds its kind's
    `MAX_DEFINITIONS` already."""
    limit = MAX_DEFINITIONS[kind]
    if not await state.store.insert_document(org_id, kind, doc, state.now(), limit):
        plural = _PLURALS[kind]
        raise DefinitionError(
            f"{plural}: an organisation holds at most {limit} {plural}; delete one first"
        )


async def known_references(
    state: ServerState, org_id: str, spec: dict[str, Any], previous: dict[str, Any] | None = None
) -> None:
    """DefinitionError naming the first channel, group or monitor id a group's `spec` gives
    that the organisation does not have (e.g. `childChannelIds[1]`). Ids the group held
    already (`previous`) pass: a group stored before deletions removed their ids from groups
    may still name a deleted one, and read and written back it must not be refused for it
    (the store drops such ids as it writes the group)."""
    for field, kind, label in _GROUP_REFERENCES:
        held = set(_referenced(previous, field)) if previous else set()
        ids = _referenced(spec, field)
        if not set(ids) - held:
            continue
        known = await state.store.document_ids(org_id, kind) | held
        for index, ref in enumerate(ids):
            if ref not in known:
                where = f"{field}[{index}].id" if field == "monitors" else f"{field}[{index}]"
                raise DefinitionError(f"{where}: no {label} {ref!r} in this organisation")


def _referenced(spec: dict[str, Any], field: str) -> list[str]:
    return [m["id"] for m in spec[field]] if field == "monitors" else list(spec[field])


def is_default_group(group: Document) -> bool:
    return group.spec["type"] == DEFAULT_GROUP_TYPE


async def default_group(state: ServerState, org_id: str) -> Document:
    """The organisation's default group, created (with every channel) on first use.

    Its id derives from the organisation, so concurrent first uses (two requests, two
    workers) insert the same row and the store keeps one (`Store.add_document`)."""
    for group in await state.store.list_documents(org_id, GROUP):
        if is_default_group(group):
            return group
    channels = await state.store.list_documents(org_id, "channel")
    spec = validate_group({"name": "Default", "childChannelIds": [c.id for c in channels]})
    group = Document(stable_id(f"default-group:{org_id}"), {**spec, "type": DEFAULT_GROUP_TYPE})
    return await state.store.add_document(org_id, GROUP, group, state.now())


async def join_default_group(state: ServerState, org_id: str, channel_id: str) -> None:
    """Adds a channel to the default group (a default group created now has it already)."""
    group = await default_group(state, org_id)
    if channel_id not in group.spec["childChannelIds"]:
        group.spec["childChannelIds"].append(channel_id)
        await state.store.put_document(org_id, GROUP, group, state.now())


async def list_groups(state: ServerState, org_id: str) -> list[Document]:
    """Every group, the default one included (created if it was not yet)."""
    await default_group(state, org_id)
    return await state.store.list_documents(org_id, GROUP)


async def create_group(state: ServerState, org_id: str, body: Any) -> Document:
    await default_group(state, org_id)
    group = Document(new_id(), checked(validate_group, body))
    await known_references(state, org_id, group.spec)
    await insert(state, org_id, GROUP, group)
    return group


async def update_group(state: ServerState, org_id: str, group_id: str, body: Any) -> Document:
    old = await state.store.get_document(org_id, GROUP, group_id)
    group = Document(group_id, checked(validate_group, body, old.spec))
    await known_references(state, org_id, group.spec, old.spec)
    await state.store.put_document(org_id, GROUP, group, state.now())
    return group


async def delete_group(state: ServerState, org_id: str, group_id: str) -> Document:
    """Deletes a group and returns it; the default group stays (DefinitionError)."""
    old = await state.store.get_document(org_id, GROUP, group_id)
    if is_default_group(old):
        raise DefinitionError("the default notification group cannot be deleted")
    return await state.store.delete_document(org_id, GROUP, group_id)


async def create_channel(
    state: ServerState, org_id: str, body: Any, *, join_default: bool = False
) -> Document:
    channel = Document(new_id(), reachable(state, checked(validate_channel, body)))
    await insert(state, org_id, "channel", channel)
    if join_default:
        await join_default_group(state, org_id, channel.id)
    return channel


async def update_channel(state: ServerState, org_id: str, channel_id: str, body: Any) -> Document:
    """Replaces a channel's settings; its type cannot change."""
    old = await state.store.get_document(org_id, "channel", channel_id)
    spec = reachable(state, checked(validate_channel, body, old.spec["type"]))
    channel = Document(channel_id, spec)
    await state.store.put_document(org_id, "channel", channel, state.now())
    return channel


async def delete_channel(state: ServerState, org_id: str, channel_id: str) -> Document:
    return await state.store.delete_document(org_id, "channel", channel_id)


async def send_test_notification(state: ServerState, org_id: str, channel_id: str) -> None:
    """Queues the channel's sample notification; its delivery log shows how it went."""
    channel = await state.store.get_document(org_id, "channel", channel_id)
    delivery = NewDelivery(channel_id, f"test:{new_id()}", sample_body(channel.spec["type"]))
    await state.store.enqueue_deliveries(org_id, [delivery], state.now())


async def create_monitor(state: ServerState, org_id: str, body: Any) -> Monitor:
    monitor = Monitor(new_id(), reachable(state, checked(validate_monitor, body)))
    await insert(state, org_id, "monitor", Document(monitor.id, monitor.spec))
    return monitor


async def update_monitor(state: ServerState, org_id: str, monitor_id: str, body: Any) -> Monitor:
    """Replaces a monitor's definition; its type cannot change."""
    old = await state.store.get_document(org_id, "monitor", monitor_id)
    spec = reachable(state, checked(validate_monitor, body, Monitor(old.id, old.spec)))
    await state.store.put_document(org_id, "monitor", Document(monitor_id, spec), state.now())
    return Monitor(monitor_id, spec)


async def delete_monitor(
    state: ServerState, closer: Closer, org_id: str, monitor_id: str
) -> Monitor:
    """Deletes the monitor and closes its open alerts (trigger `monitorDelete`), notified."""
    doc = await closer.delete_monitor(org_id, monitor_id, state.now())
    return Monitor(doc.id, doc.spec)


async def create_downtime(state: ServerState, org_id: str, body: Any) -> Document:
    downtime = Document(new_id(), checked(validate_downtime, body))
    await insert(state, org_id, "downtime", downtime)
    return downtime


async def update_downtime(state: ServerState, org_id: str, downtime_id: str, body: Any) -> Document:
    await state.store.get_document(org_id, "downtime", downtime_id)
    downtime = Document(downtime_id, checked(validate_downtime, body))
    await state.store.put_document(org_id, "downtime", downtime, state.now())
    return downtime


async def create_alert_group_setting(state: ServerState, org_id: str, body: Any) -> Document:
    setting = Document(new_id(), checked(validate_alert_group_setting, body))
    await insert(state, org_id, "alert_group_setting", setting)
    return setting


async def delete_downtime(state: ServerState, org_id: str, downtime_id: str) -> Document:
    return await state.store.delete_document(org_id, "downtime", downtime_id)
