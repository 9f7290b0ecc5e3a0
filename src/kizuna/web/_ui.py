"""The UI's shared machinery: templates, the signed-in session of a request, answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import Message

from kizuna.node import Node, Snapshot
from kizuna.web import _views as views
from kizuna.web._security import same_origin
from kizuna.web._sessions import (
    COOKIE,
    MAX_FAILURES_PER_ADDRESS,
    RateLimit,
    Session,
    Sessions,
)

HERE = Path(__file__).parent
PREFIX = "/ui"


class Refused(Exception):
    """A request the UI answers with an error page (status and message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Ui:
    """The node behind the pages, the session keeper and the templates."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.sessions = Sessions(node.config.secret, node.store)
        self.limiter = RateLimit()  # per user name
        self.address_limiter = RateLimit(MAX_FAILURES_PER_ADDRESS)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.ChainableUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # |tojson still writes <, >, & and ' as \u escapes; text in any script is shown as it is
        self.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
        self.env.globals.update(
            iso=views.iso,
            iso_text=views.iso_text,
            safe_url=views.safe_url,
            attack_url=views.attack_url,
            display_name=views.display_name,
            carried_names=views.carried_names,
            type_name=views.type_name,
            origin_text=views.origin_text,
            number=views.number,
            obj_url=lambda sid: f"{PREFIX}/objects/{quote(str(sid), safe='')}",
            coll_url=lambda cid: f"{PREFIX}/collections/{quote(str(cid), safe='')}/",
            node_name=node.config.name,
        )

    def secure(self, request: Request) -> bool:
        return request.url.scheme == "https" or bool(self.node.config.tls_cert)

    def session(self, request: Request, snap: Snapshot) -> Session | None:
        return self.sessions.read(snap, request.cookies.get(COOKIE))

    def page(
        self,
        request: Request,
        template: str,
        session: Session | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(
            session=session,
            csrf=self.sessions.csrf(session.sid) if session else "",
            path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def not_found(self, request: Request, session: Session | None) -> HTMLResponse:
        """The one 404 page: the same for what is hidden and what is absent."""
        return self.page(request, "404.html", session, status=404, title="Not found")


Handler = Callable[[Ui, Request, Snapshot, Session], Response]
#: The largest body a form of the UI may send (a file to import, with the form around it).
MAX_FORM_BYTES = 65 * 1024 * 1024


class _TooLarge(Exception):
    """A request body longer than MAX_FORM_BYTES."""


async def _read_form(request: Request) -> dict[str, Any]:
    """The fields of a form (a file as (name, bytes)), read up to MAX_FORM_BYTES."""
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise _TooLarge
    received = 0
    receive = request.receive

    async def bounded() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > MAX_FORM_BYTES:
            raise _TooLarge
        return message

    limited = Request(request.scope, bounded)
    parsed = await limited.form(max_files=1, max_fields=50, max_part_size=MAX_FORM_BYTES)
    form: dict[str, Any] = {}
    try:
        for key, value in parsed.multi_items():
            if hasattr(value, "read"):
                form[key] = (getattr(value, "filename", "") or "upload", await value.read())
            else:
                form.setdefault(key, value)
    finally:
        await parsed.close()
    return form


def signed_in(
    ui: Ui, fn: Handler, *, admin: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint for signed-in users only; others are sent to the sign-in page (GET) or
    refused (anything else). State-changing requests must carry the session's CSRF token.

    With *admin*, for administrators only: anyone else gets the page of an absent path (the
    404 comes before the CSRF check, so a form posted there is answered as nowhere else)."""

    def admit(request: Request) -> tuple[Snapshot, Session] | Response:
        """The request's snapshot and session, or the answer to one that may not go on."""
        snap = ui.node.snapshot()
        session = ui.session(request, snap)
        if session is None:
            if request.method == "GET":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='')}", 303)
            return ui.page(request, "error.html", None, 401, title="Signed out",
                           message="Your session has ended: sign in again.")
        if admin and not session.is_admin:
            return ui.not_found(request, session)
        return snap, session

    def handle(request: Request, form: dict[str, Any] | None) -> Response:
        admitted = admit(request)
        if isinstance(admitted, Response):
            return admitted
        snap, session = admitted
        if form is not None and (
            not ui.sessions.check_csrf(session.sid, str(form.get("csrf", "")))
            or not same_origin(dict(request.headers), request.url.netloc)
        ):
            return ui.page(request, "error.html", session, 403, title="Refused",
                           message="This form has expired or did not come from this site "
                           "(its CSRF token does not match your session). Reload the page and try again.")
        request.state.form = form
        try:
            return fn(ui, request, snap, session)
        except Refused as exc:
            return ui.page(request, "error.html", session, exc.status, title="Refused",
                           message=exc.message)

    async def endpoint(request: Request) -> Response:
        form: dict[str, Any] | None = None
        if request.method not in ("GET", "HEAD"):
            # Who asks is known before the body is read: a request that may not go on is
            # answered without reading it, and a body is read only up to MAX_FORM_BYTES.
            admitted = await run_in_threadpool(admit, request)
            if isinstance(admitted, Response):
                return admitted
            try:
                form = await _read_form(request)
            except _TooLarge:
                return ui.page(request, "error.html", admitted[1], 413, title="Refused",
                               message=f"A form or file sent here is at most {MAX_FORM_BYTES // 2**20} "
                               "MiB; import a larger file with `kizuna import`.")
        return await run_in_threadpool(handle, request, form)

    return endpoint
