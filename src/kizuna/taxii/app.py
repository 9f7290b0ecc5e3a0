"""The TAXII 2.1 HTTP API: thin handlers from request to a store query under the caller's policy.

Every response is ``application/taxii+json;version=2.1``; every error is a TAXII error resource
rendered by one handler from the exception's status and message.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kizuna.errors import HTTPStatusError, KizunaError, MethodNotAllowed, NotFound
from kizuna.node import Node, read_page
from kizuna.policy.principal import Principal
from kizuna.stix.timestamps import format_added, format_micros
from kizuna.store.errors import resource_error
from kizuna.store.types import Collection, ObjectQuery, StoredVersion, VersionMatch
from kizuna.taxii._access import AccessLog, printable
from kizuna.taxii._context import API_ROOT, Context
from kizuna.taxii._related import related_endpoint
from kizuna.taxii._resources import (
    TaxiiResponse,
    collection_resource,
    envelope,
    error_response,
    page_headers,
)
from kizuna.taxii._writes import Writes
from kizuna.taxii.media import STIX, TAXII

__all__ = ["API_ROOT", "create_app"]

log = logging.getLogger("kizuna.taxii")


def create_app(node: Node) -> Starlette:
    """The TAXII 2.1 application of *node*."""
    ctx = Context(node)
    cfg = ctx.cfg
    sync = ctx.sync
    writes = Writes(ctx)

    # -- endpoints ---------------------------------------------------------------------------

    def discovery(request: Request, principal: Principal) -> Response:
        base = str(request.base_url).rstrip("/")
        return TaxiiResponse(
            {
                "title": f"Kizuna node {cfg.name}",
                "description": f"Threat-intelligence exchange of {cfg.org} ({cfg.country}).",
                "contact": cfg.org,
                "default": f"{base}/{API_ROOT}/",
                "api_roots": [f"{base}/{API_ROOT}/"],
            }
        )

    def api_root(request: Request, principal: Principal) -> Response:
        return TaxiiResponse(
            {
                "title": f"{cfg.name} API root",
                "description": "STIX 2.1 objects shared under TLP 2.0 and releasability markings.",
                "versions": [TAXII],
                "max_content_length": cfg.max_body_bytes,
            }
        )

    def collections(request: Request, principal: Principal) -> Response:
        snap = node.snapshot()
        visible = []
        for c in node.store.collections():
            access = snap.gate.access(principal, c.id)
            if access.can_read or access.can_write:
                visible.append(collection_resource(c, access))
        return TaxiiResponse({"collections": visible} if visible else {})

    def collection(request: Request, principal: Principal) -> Response:
        c, access = ctx.known_collection(principal, request.path_params["cid"])
        return TaxiiResponse(collection_resource(c, access))

    def get_objects(request: Request, principal: Principal) -> Response:
        _, _, page, token = ctx.paged_read(
            request,
            principal,
            request.path_params["cid"],
            None,
            ("match[id]", "match[type]", "match[version]", "match[spec_version]"),
        )
        return TaxiiResponse(envelope(page, token), headers=page_headers(page))

    def get_object(request: Request, principal: Principal) -> Response:
        oid = request.path_params["oid"]
        cid = request.path_params["cid"]
        collection, f, page, token = ctx.paged_read(
            request, principal, cid, oid, ("match[version]", "match[spec_version]")
        )
        if not page.items and f.next is None and not visible(principal, collection, oid):
            raise NotFound(f"no object {oid} in collection {cid}")
        return TaxiiResponse(envelope(page, token), headers=page_headers(page))

    def visible(principal: Principal, collection: Collection, oid: str) -> bool:
        """Does *principal* see any version of *oid* here? A filter that matches none of them
        answers an empty envelope (TAXII 2.1 sections 5.6 and 5.8); an object absent or hidden
        answers 404, the same for both."""
        query = ObjectQuery(collection_id=collection.id, ids=(oid,), versions=VersionMatch(all=True))
        return bool(read_page(node.store, node.snapshot(), principal, collection, query, 1).items)

    def versions(request: Request, principal: Principal) -> Response:
        oid = request.path_params["oid"]
        cid = request.path_params["cid"]
        collection = ctx.readable_collection(principal, cid)
        f, digest = ctx.filters_of(request, ("match[spec_version]",))
        after = ctx.start_after(f, digest, collection, principal)
        query = ObjectQuery(
            collection_id=collection.id,
            after_us=after,
            ids=(oid,),
            spec_versions=f.spec_versions,
            versions=VersionMatch(all=True),
        )
        page = read_page(node.store, node.snapshot(), principal, collection, query, f.limit)
        if not page.items and f.next is None and not visible(principal, collection, oid):
            raise NotFound(f"no object {oid} in collection {cid}")
        body: dict[str, Any] = {"more": page.more}
        if page.more and page.last_added is not None:
            body["next"] = ctx.cursors.encode(collection.id, str(principal.key), digest, page.last_added)
        if page.items:
            body["versions"] = [_version(i.row) for i in page.items]
        return TaxiiResponse(body if page.items or page.more else {}, headers=page_headers(page))

    def provenance(request: Request, principal: Principal) -> Response:
        """Kizuna extension: where each visible version of an object came from, and when."""
        oid = request.path_params["oid"]
        cid = request.path_params["cid"]
        collection = ctx.readable_collection(principal, cid)
        query = ObjectQuery(
            collection_id=collection.id, ids=(oid,), versions=VersionMatch(all=True)
        )
        page = read_page(node.store, node.snapshot(), principal, collection, query, 100_000)
        if not page.items:
            raise NotFound(f"no object {oid} in collection {cid}")
        return TaxiiResponse(
            {
                "id": oid,
                "versions": [
                    {
                        "version": _version(i.row),
                        "date_added": format_added(i.row.added_us),
                        "origin": i.row.origin,
                    }
                    for i in page.items
                ],
            }
        )

    def manifest(request: Request, principal: Principal) -> Response:
        _, _, page, token = ctx.paged_read(
            request,
            principal,
            request.path_params["cid"],
            None,
            ("match[id]", "match[type]", "match[version]", "match[spec_version]"),
        )
        if not page.items and not page.more and not token:
            return TaxiiResponse({})  # the empty envelope, as for objects
        body: dict[str, Any] = {"more": page.more}
        if token:
            body["next"] = token
        if page.items:
            body["objects"] = [
                {
                    "id": i.row.stix_id,
                    "date_added": format_added(i.row.added_us),
                    "version": _version(i.row),
                    "media_type": STIX,
                }
                for i in page.items
            ]
        return TaxiiResponse(body, headers=page_headers(page))

    routes = [
        Route("/taxii2/", sync(discovery), methods=["GET"]),
        Route(f"/{API_ROOT}/", sync(api_root), methods=["GET"]),
        Route(f"/{API_ROOT}/status/{{sid}}/", sync(writes.get_status), methods=["GET"]),
        Route(f"/{API_ROOT}/collections/", sync(collections), methods=["GET"]),
        Route(f"/{API_ROOT}/collections/{{cid}}/", sync(collection), methods=["GET"]),
        Route(f"/{API_ROOT}/collections/{{cid}}/objects/", sync(get_objects), methods=["GET"]),
        Route(f"/{API_ROOT}/collections/{{cid}}/objects/", writes.add_objects, methods=["POST"]),
        Route(f"/{API_ROOT}/collections/{{cid}}/manifest/", sync(manifest), methods=["GET"]),
        Route(
            f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/", sync(get_object), methods=["GET"]
        ),
        Route(
            f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/",
            sync(writes.delete_object),
            methods=["DELETE"],
        ),
        Route(
            f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/provenance/",
            sync(provenance),
            methods=["GET"],
        ),
        Route(
            f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/related/",
            related_endpoint(ctx),
            methods=["GET"],
        ),
        Route(
            f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/versions/",
            sync(versions),
            methods=["GET"],
        ),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            err: KizunaError = NotFound(
                f"no such endpoint {request.url.path}; TAXII discovery is at /taxii2/"
            )
        elif exc.status_code == 405:
            err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        else:
            err = HTTPStatusError(str(exc.detail), exc.status_code)
        return error_response(err)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, printable(request.url.path))
        return error_response(KizunaError("the server hit an unexpected error; see its log"))

    async def database_error(request: Request, exc: Exception) -> Response:
        """A full disk (507) or a database that cannot serve now (503, Retry-After) is said
        so; any other database error is a bug (500, with its traceback in the log)."""
        err = resource_error(exc)
        if err is None:
            return await server_error(request, exc)
        log.warning(
            "%s %s answered %d: %s (%s: %s)",
            request.method,
            printable(request.url.path),
            err.status,
            err.message,
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "",
        )
        return error_response(err)

    # The store's errors reach here raw (its hot queries use the driver's cursor) or wrapped
    # by SQLAlchemy.
    database_errors = (DBAPIError, sqlite3.Error, psycopg.Error, OSError)
    app = Starlette(
        routes=routes,
        exception_handlers={
            HTTPException: http_error,
            **dict.fromkeys(database_errors, database_error),
            Exception: server_error,
        },
        middleware=[Middleware(AccessLog)],
    )
    app.state.node = node
    app.state.context = ctx
    return app


def _version(row: StoredVersion) -> str:
    """A version as TAXII lists it: the object's ``modified`` (or ``created``), else (an SCO)
    its ``date_added``."""
    return format_micros(row.version_us) if row.version_us else format_added(row.added_us)
