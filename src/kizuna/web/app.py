"""The analyst UI's application, mounted by ``kizuna serve`` under ``/ui/``.

Every page reads through the node's gate (``kizuna.node.read_page``, in ``_reads``); every
state-changing request carries the session's CSRF token; every answer carries the
Content-Security-Policy of ``_security`` (no inline script, never in a frame).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from kizuna.node import Node, Snapshot
from kizuna.web import _admin, _browse, _importing, _notes, _object, _search, _signin, _space
from kizuna.web._security import SecurityHeaders
from kizuna.web._sessions import Session
from kizuna.web._ui import HERE, PREFIX, Handler, Ui, signed_in

__all__ = ["PREFIX", "create_ui", "mount"]


def create_ui(node: Node) -> Starlette:
    """The UI of *node*, to be mounted at :data:`PREFIX`."""
    ui = Ui(node)
    routes = [
        Route("/login", _signin.login_form, methods=["GET"]),
        Route("/login", _signin.login, methods=["POST"]),
        Route("/logout", signed_in(ui, _signin.logout), methods=["POST"]),
        Route("/", signed_in(ui, _browse.home), methods=["GET"]),
        Route("/collections/{cid}/", signed_in(ui, _browse.collection), methods=["GET"]),
        Route("/collections/{cid}/export", signed_in(ui, _browse.export), methods=["GET"]),
        Route("/collections/{cid}/import", signed_in(ui, _importing.import_file), methods=["POST"]),
        Route("/objects/{sid}", signed_in(ui, _object.object_page), methods=["GET"]),
        Route("/objects/{sid}/notes", signed_in(ui, _notes.post_note), methods=["POST"]),
        Route("/space/", signed_in(ui, _space.space), methods=["GET"]),
        Route("/search", signed_in(ui, _search.search_page), methods=["GET"]),
        *_admin_routes(ui),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:  # the page of an absent path, as of a hidden object
            return ui.not_found(request, ui.session(request, ui.node.snapshot()))
        return ui.page(request, "error.html", None, exc.status_code, title="Refused",
                       message=str(exc.detail))

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error},
        middleware=[Middleware(SecurityHeaders)],
    )
    app.state.ui = ui
    return app


def _admin_routes(ui: Ui) -> list[BaseRoute]:
    """The administrators' pages. For anyone else each is the page of an absent path, with
    any method (a method a path does not take is answered so for administrators too)."""
    pages: dict[str, dict[str, Handler]] = {
        "/admin/": {"GET": _admin.accounts},
        "/admin/orgs": {"POST": _admin.add_org},
        "/admin/users": {"POST": _admin.add_user},
        "/admin/users/rotate": {"POST": _admin.rotate_token},
        "/admin/users/disable": {"POST": _admin.disable_user},
        "/admin/grants": {"GET": _admin.grants, "POST": _admin.set_grant},
        "/admin/peers": {"GET": _admin.peers},
        "/admin/markings": {"GET": _admin.markings, "POST": _admin.add_rel_to},
        "/admin/communities": {"POST": _admin.set_community},
    }

    def by_method(handlers: dict[str, Handler]) -> Handler:
        def handle(ui: Ui, request: Request, snap: Snapshot, session: Session) -> Response:
            fn = handlers.get(request.method)
            return fn(ui, request, snap, session) if fn else ui.not_found(request, session)

        return handle

    return [
        Route(path, signed_in(ui, by_method(handlers), admin=True), methods=["GET", "POST"])
        for path, handlers in pages.items()
    ]


def mount(app: Starlette, node: Node) -> Starlette:
    """Add the UI to *app* (the TAXII application of *node*): ``/ui/`` and ``/`` to it."""
    ui = create_ui(node)

    async def to_ui(request: Request) -> Response:
        return RedirectResponse(PREFIX + "/", 307)

    extra: list[BaseRoute] = [
        Route("/", to_ui, methods=["GET"]),
        Route(PREFIX, to_ui, methods=["GET"]),
        Mount(PREFIX, ui),
    ]
    app.router.routes.extend(extra)
    return app
