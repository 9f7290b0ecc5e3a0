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

from kizuna.node import Node
from kizuna.web import _browse, _importing, _notes, _object, _search, _signin, _space
from kizuna.web._security import SecurityHeaders
from kizuna.web._ui import HERE, PREFIX, Ui, signed_in

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
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return ui.not_found(request, None)
        return ui.page(request, "error.html", None, exc.status_code, title="Refused",
                       message=str(exc.detail))

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error},
        middleware=[Middleware(SecurityHeaders)],
    )
    app.state.ui = ui
    return app


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
