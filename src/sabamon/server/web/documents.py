"""Loading the definition a dashboard URL names (monitor, channel, group)."""

from __future__ import annotations

from sabamon.server.api.deps import ServerState
from sabamon.server.store.alerts_types import Document, DocumentKind
from sabamon.server.store.base import NotFound


async def find_document(
    state: ServerState, org_id: str, kind: DocumentKind, doc_id: str
) -> Document | None:
    """The org's document, or None where it has none by that id: the page answers 404."""
    try:
        return await state.store.get_document(org_id, kind, doc_id)
    except NotFound:
        return None
