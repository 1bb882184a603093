"""Monitors, alerts and notification deliveries for the SQL backends, on `_read`/`_write`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, TypeVar

from . import alerts_ops
from .alerts_types import (
    AlertLogRecord,
    AlertRecord,
    Delivery,
    Document,
    DocumentKind,
    NewDelivery,
    TargetWrite,
)
from .ops import Step

T = TypeVar("T")


class AlertsMixin(ABC):
    skip_locked_rows = False
    """Whether the database has `FOR UPDATE SKIP LOCKED` (PostgreSQL does, SQLite does not)."""

    @abstractmethod
    async def _read(self, step: Step[T]) -> T: ...

    @abstractmethod
    async def _write(self, step: Step[T]) -> T: ...

    async def list_documents(self, org_id: str, kind: DocumentKind) -> list[Document]:
        return await self._read(alerts_ops.list_documents(org_id, kind))

    async def get_document(self, org_id: str, kind: DocumentKind, doc_id: str) -> Document:
        return await self._read(alerts_ops.get_document(org_id, kind, doc_id))

    async def put_document(self, org_id: str, kind: DocumentKind, doc: Document, now: int) -> None:
        await self._write(alerts_ops.put_document(org_id, kind, doc, now))

    async def add_document(
        self, org_id: str, kind: DocumentKind, doc: Document, now: int
    ) -> Document:
        return await self._write(alerts_ops.add_document(org_id, kind, doc, now))

    async def delete_document(self, org_id: str, kind: DocumentKind, doc_id: str) -> Document:
        return await self._write(alerts_ops.delete_document(org_id, kind, doc_id))

    async def target_states(
        self, org_id: str, target: str | None = None
    ) -> dict[tuple[str, str], dict[str, Any]]:
        return await self._read(alerts_ops.target_states(org_id, target))

    async def commit_targets(self, org_id: str, writes: Sequence[TargetWrite], now: int) -> int:
        return await self._write(alerts_ops.commit_targets(org_id, writes, now))

    async def open_alerts(self, org_id: str) -> list[AlertRecord]:
        return await self._read(alerts_ops.open_alerts(org_id))

    async def list_alerts(
        self, org_id: str, with_closed: bool, next_id: str | None, limit: int
    ) -> tuple[list[AlertRecord], str | None]:
        return await self._read(alerts_ops.list_alerts(org_id, with_closed, next_id, limit))

    async def get_alert(self, org_id: str, alert_id: str) -> AlertRecord:
        return await self._read(alerts_ops.get_alert(org_id, alert_id))

    async def set_alert_memo(self, org_id: str, alert_id: str, memo: str) -> None:
        await self._write(alerts_ops.set_alert_memo(org_id, alert_id, memo))

    async def close_alerts(
        self, org_id: str, alerts: Sequence[AlertRecord], reason: str, trigger: str, now: int,
        deliveries: Sequence[NewDelivery] = (),
    ) -> list[AlertRecord]:  # fmt: skip
        return await self._write(
            alerts_ops.close_alerts(org_id, alerts, reason, trigger, now, deliveries)
        )

    async def alert_logs(
        self, org_id: str, alert_id: str, next_id: str | None, limit: int
    ) -> tuple[list[AlertLogRecord], str | None]:
        return await self._read(alerts_ops.alert_logs(org_id, alert_id, next_id, limit))

    async def enqueue_deliveries(self, org_id: str, items: Sequence[NewDelivery], now: int) -> None:
        await self._write(alerts_ops.enqueue_deliveries(org_id, items, now))

    async def claim_deliveries(self, now: int, lease: int, limit: int) -> list[Delivery]:
        return await self._write(
            alerts_ops.claim_deliveries(now, lease, limit, self.skip_locked_rows)
        )

    async def finish_delivery(
        self, delivery_id: str, state: str, attempts: int, next_attempt_at: int,
        error: str | None, now: int,
    ) -> None:  # fmt: skip
        await self._write(
            alerts_ops.finish_delivery(delivery_id, state, attempts, next_attempt_at, error, now)
        )

    async def list_deliveries(
        self, org_id: str, channel_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        return await self._read(alerts_ops.list_deliveries(org_id, channel_id, limit))
