"""Sign-in and sign-out."""

from __future__ import annotations

import asyncio
import logging
import math

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from sabamon.server.store.records import WebSession

from . import auth
from .render import render
from .session import FormUser, State, set_cookie
from .throttle import SignInThrottle

log = logging.getLogger(__name__)
router = APIRouter()
# Checked against when the user is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = auth.hash_password("not a real password")


def sign_in_throttle(request: Request) -> SignInThrottle:
    """The app's throttle, made at its first sign-in."""
    throttle: SignInThrottle | None = getattr(request.app.state, "sign_in_throttle", None)
    if throttle is None:
        throttle = request.app.state.sign_in_throttle = SignInThrottle()
    return throttle


def safe_next(target: str | None) -> str:
    """Only paths on this server: never `//host` or `https://host`."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui/hosts"


@router.get("/ui/login")
async def login_page(request: Request, next: str = "/ui/hosts") -> Response:
    token = auth.new_token()
    response = render(request, "login.html", None, login_csrf=token, next=safe_next(next))
    set_cookie(response, request, auth.LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/ui/login")
async def login(
    request: Request,
    state: State,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/ui/hosts"),
) -> Response:
    if not auth.same_token(csrf, request.cookies.get(auth.LOGIN_CSRF_COOKIE)):
        response = render(
            request,
            "login.html",
            None,
            status_code=403,
            error="The sign-in form expired; please try again.",
            login_csrf=csrf or auth.new_token(),
            next=safe_next(next),
        )
        set_cookie(response, request, auth.LOGIN_CSRF_COOKIE, csrf, max_age=3600)
        return response
    throttle = sign_in_throttle(request)
    address = request.client.host if request.client else ""
    wait = throttle.wait(username, address)
    if wait > 0:
        seconds = math.ceil(wait)
        response = render(
            request,
            "login.html",
            None,
            status_code=429,
            error=f"Too many failed sign-ins; try again in {seconds} s.",
            login_csrf=csrf,
            next=safe_next(next),
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    user = await state.store.get_user(username)
    stored = user.password_hash if user else _DUMMY_HASH
    valid = await asyncio.to_thread(auth.verify_password, password, stored)
    if user is None or not valid:
        throttle.failed(username, address)
        log.warning("event=sign_in_refused user=%r client=%s", username[:64], address)
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            error="Wrong user name or password.",
            login_csrf=csrf,
            next=safe_next(next),
        )
    throttle.succeeded(username, address)
    token, now = auth.new_token(), state.now()
    await state.store.create_session(
        WebSession(auth.token_digest(token), user.name, now, now + auth.SESSION_TTL)
    )
    log.info("event=signed_in user=%s", user.name)
    redirect = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(redirect, request, auth.SESSION_COOKIE, token, max_age=auth.SESSION_TTL)
    redirect.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/")
    return redirect


@router.post("/ui/logout")
async def logout(request: Request, state: State, signed_in: FormUser) -> Response:
    token = request.cookies.get(auth.SESSION_COOKIE, "")
    await state.store.delete_session(auth.token_digest(token), state.now())
    log.info("event=signed_out user=%s", signed_in.user.name)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
