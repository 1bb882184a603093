"""Who is signed in: the session cookie, the CSRF check on forms, and their failures.

Pages redirect to the login page when no session is present; data endpoints answer 401
with the API's error body instead, so the charts can tell the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from sabamon.server.state import State as State  # the async dependency, no thread hop
from sabamon.server.state import server_state
from sabamon.server.store.records import User

from . import auth


@dataclass(frozen=True)
class SignedIn:
    """The user, the CSRF token of their session and the organisation's open-alert count
    (shown in the navigation of every page)."""

    user: User
    csrf: str
    open_alerts: int = 0


class SignInRequired(Exception):
    def __init__(self, for_data: bool) -> None:
        super().__init__("sign in first")
        self.for_data = for_data


class CsrfRejected(Exception):
    """A form arrived without the token of the session that rendered it."""


async def _signed_in(request: Request) -> SignedIn | None:
    token = request.cookies.get(auth.SESSION_COOKIE)
    if not token:
        return None
    state = server_state(request)
    user = await state.store.session_user(auth.token_digest(token), state.now())
    return None if user is None else SignedIn(user, auth.csrf_for_session(token))


async def page_user(request: Request) -> SignedIn:
    signed_in = await _signed_in(request)
    if signed_in is None:
        raise SignInRequired(for_data=False)
    alerts = await server_state(request).store.open_alerts(signed_in.user.org_id)
    return replace(signed_in, open_alerts=len(alerts))


async def data_user(request: Request) -> SignedIn:
    signed_in = await _signed_in(request)
    if signed_in is None:
        raise SignInRequired(for_data=True)
    return signed_in


async def form_user(request: Request) -> SignedIn:
    """The signed-in user of a POSTed form whose `csrf` field matches the session."""
    signed_in = await page_user(request)
    form = await request.form()
    given = form.get("csrf")
    if not auth.same_token(given if isinstance(given, str) else None, signed_in.csrf):
        raise CsrfRejected()
    return signed_in


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Lax, and Secure whenever the page was served over TLS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


async def sign_in_required(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignInRequired) and exc.for_data:
        return JSONResponse({"error": {"message": "Sign in first."}}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)


async def csrf_rejected(request: Request, exc: Exception) -> Response:
    return Response(
        "The form was not sent by this dashboard or has expired: reload the page and retry.",
        status_code=403,
        media_type="text/plain",
    )


PageUser = Annotated[SignedIn, Depends(page_user)]
DataUser = Annotated[SignedIn, Depends(data_user)]
FormUser = Annotated[SignedIn, Depends(form_user)]
