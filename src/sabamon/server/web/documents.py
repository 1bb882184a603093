"""Loading the definition a dashboard URL names (monitor, channel, group), and the page
that asks before one is deleted."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

from sabamon.server.state import ServerState
from sabamon.server.store.records import Document, DocumentKind, NotFound

from .render import missing, render
from .session import SignedIn


async def find_document(
    state: ServerState, org_id: str, kind: DocumentKind, doc_id: str
) -> Document | None:
    """The org's document, or None where it has none by that id: the page answers 404."""
    try:
        return await state.store.get_document(org_id, kind, doc_id)
    except NotFound:
        return None


async def confirm_delete_page(
    request: Request,
    state: ServerState,
    signed_in: SignedIn,
    kind: DocumentKind,
    doc_id: str,
    *,
    what: str,
    action: str,
    back: str,
    consequence: str,
) -> HTMLResponse:
    """ "Delete this `what`?" with what deleting it does; 404 when there is no such one."""
    doc = await find_document(state, signed_in.user.org_id, kind, doc_id)
    if doc is None:
        return missing(request, signed_in, f"{what} {doc_id}")
    name = doc.spec.get("name", "")
    return render(
        request, "confirm_delete.html", signed_in,
        what=what, name=name, action=action, back=back, consequence=consequence,
    )  # fmt: skip
