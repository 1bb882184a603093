"""Closing alerts outside the evaluation cycle, with Mackerel's notification of it.

A manual close, a deleted monitor and a retired host close their alerts at once (status
OK, the reason, `closedAt`) and announce it like Mackerel: the webhook's `alert.trigger`
is `manual close`, `delete monitor` or `retire host`, status `ok`, `isOpen` false. The
close and its deliveries commit in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sabamon.server.alert_json import alert_json
from sabamon.server.alerts import notices
from sabamon.server.alerts.monitors import Monitor
from sabamon.server.notify.events import AlertEvent
from sabamon.server.store import Store
from sabamon.server.store.records import AlertRecord, Document, Host, NewDelivery, NotFound

REASONS = {"monitorDelete": "monitor deleted", "hostRetire": "host retired"}


@dataclass(frozen=True)
class Closer:
    """Where the notifications link to, the organisation name they show, and whether
    their graph images are published (see `notify/images.py`)."""

    store: Store
    org_name: str
    base_url: str
    graph_images: bool = False

    async def close(
        self,
        org_id: str,
        alerts: Sequence[AlertRecord],
        reason: str,
        trigger: str,
        now: int,
        monitors: Sequence[Document] = (),
        defs: notices.Definitions | None = None,
    ) -> list[AlertRecord]:
        """Closes the open ones among `alerts` and notifies; `monitors` adds documents
        the store no longer holds (a monitor being deleted), `defs` the channels, groups
        and downtimes to route with when not those of now (read before that deletion)."""
        open_alerts = [a for a in alerts if a.closed_at is None]
        if not open_alerts:
            return []
        docs = {d.id: d for d in await self.store.list_documents(org_id, "monitor")}
        docs.update({d.id: d for d in monitors})
        defs = defs or await notices.load_definitions(self.store, org_id, now)
        hosts: dict[str, Host | None] = {}
        queued: list[NewDelivery] = []
        graphs = 0
        for alert in open_alerts:
            doc = docs.get(alert.monitor_id)
            spec = doc.spec if doc else {"type": alert.type, "name": alert.message or ""}
            monitor = Monitor(alert.monitor_id, spec)
            host = await self._host(org_id, alert.host_id, hosts)
            if notices.suppressed(monitor, host, defs):
                continue
            closed = replace(alert, status="OK", reason=reason, closed_at=now)
            event = AlertEvent(
                org_name=self.org_name,
                base_url=self.base_url,
                alert=alert_json(closed),
                monitor=monitor.to_json(),
                trigger=notices.WEBHOOK_TRIGGERS[trigger],
                changed_at=now,
                message=reason,
                host=notices.host_json(host) if host is not None else None,
                service=monitor.get("service"),
            )
            channels = notices.routed_channels(event, monitor, host, alert.status, defs)
            if graphs < notices.GRAPHS_PER_BATCH and channels:
                graphs += 1
                event = await notices.with_graph(
                    self.store, org_id, event, channels, self.graph_images
                )
            queued += notices.deliveries(event, "close", channels)
        return await self.store.close_alerts(org_id, open_alerts, reason, trigger, now, queued)

    async def delete_monitor(self, org_id: str, monitor_id: str, now: int) -> Document:
        """Deletes the monitor and closes its open alerts (trigger `monitorDelete`),
        routed by the groups as they were before the deletion removed the monitor from
        them; raises NotFound."""
        defs = await notices.load_definitions(self.store, org_id, now)
        doc = await self.store.delete_document(org_id, "monitor", monitor_id)
        mine = [a for a in await self.store.open_alerts(org_id) if a.monitor_id == monitor_id]
        await self.close(org_id, mine, REASONS["monitorDelete"], "monitorDelete", now, [doc], defs)
        return doc

    async def close_host_alerts(self, org_id: str, host_ids: Sequence[str], now: int) -> None:
        """At retirement: every open alert of these hosts, trigger `hostRetire`."""
        wanted = set(host_ids)
        mine = [a for a in await self.store.open_alerts(org_id) if a.host_id in wanted]
        await self.close(org_id, mine, REASONS["hostRetire"], "hostRetire", now)

    async def _host(
        self, org_id: str, host_id: str | None, cache: dict[str, Host | None]
    ) -> Host | None:
        if host_id is None:
            return None
        if host_id not in cache:
            try:
                cache[host_id] = await self.store.get_host(org_id, host_id)
            except NotFound:
                cache[host_id] = None
        return cache[host_id]
