"""Signing in and out: the form at /ui/login, the session cookie, the rate limit."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kizuna.node import Snapshot
from kizuna.web._security import same_origin
from kizuna.web._sessions import COOKIE, LIFETIME_SECONDS, PRE_COOKIE, Session
from kizuna.web._ui import PREFIX, Ui


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of the UI, never another site."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


def _form(ui: Ui, request: Request, status: int = 200, message: str = "") -> Response:
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(16)
    response = ui.page(
        request,
        "login.html",
        None,
        status,
        title="Sign in",
        login_csrf=ui.sessions.csrf("login:" + pre),
        next=safe_next(request.query_params.get("next")),
        message=message,
        username=request.query_params.get("username", ""),
    )
    response.set_cookie(
        PRE_COOKIE, pre, max_age=3600, httponly=True, samesite="strict",
        secure=ui.secure(request), path=PREFIX + "/login",
    )
    return response


async def login_form(request: Request) -> Response:
    ui: Ui = request.app.state.ui
    return _form(ui, request)


async def login(request: Request) -> Response:
    ui: Ui = request.app.state.ui
    form = await request.form(max_files=0, max_fields=10)
    username = str(form.get("username", "")).strip()
    token = str(form.get("token", "")).strip()
    pre = request.cookies.get(PRE_COOKIE, "")
    if not pre or not ui.sessions.check_csrf("login:" + pre, str(form.get("csrf", ""))) or not (
        same_origin(dict(request.headers), request.url.netloc)
    ):
        return _form(ui, request, 403, "The sign-in form had expired: try again.")
    client = request.client.host if request.client else "unknown"
    if ui.limiter.blocked(username) or ui.address_limiter.blocked(client):
        return _form(ui, request, 429, "Too many failed sign-ins: wait a minute and try again.")

    def check() -> tuple[Snapshot, bool]:
        snap = ui.node.snapshot()
        principal = ui.node.authenticate(token, username, snap) if username and token else None
        return snap, principal is not None

    snap, ok = await run_in_threadpool(check)
    if not ok:
        ui.limiter.failed(username)
        ui.address_limiter.failed(client)
        return _form(ui, request, 401, "That user name and token do not match.")
    response = RedirectResponse(safe_next(str(form.get("next", ""))), 303)
    response.set_cookie(
        COOKIE,
        ui.sessions.issue(snap, username),
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="strict",
        secure=ui.secure(request),
        path=PREFIX + "/",
    )
    response.delete_cookie(PRE_COOKIE, path=PREFIX + "/login")
    return response


def logout(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
    ui.sessions.end(session)
    response = RedirectResponse(PREFIX + "/login", 303)
    response.delete_cookie(COOKIE, path=PREFIX + "/", httponly=True, samesite="strict")
    return response
