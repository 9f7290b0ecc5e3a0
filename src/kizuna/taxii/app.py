"""The TAXII 2.1 HTTP API: thin handlers from request to a store query under the caller's policy.

Every response is ``application/taxii+json;version=2.1``; every error is a TAXII error resource
rendered by one handler from the exception's status and message.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kizuna.errors import (
    BadRequest,
    Forbidden,
    InvalidJSON,
    KizunaError,
    NotFound,
    UnsupportedMediaType,
)
from kizuna.node import Node
from kizuna.node._ingest import ObjectResult, ingest
from kizuna.node._read import Page, read_page
from kizuna.node._snapshot import Snapshot
from kizuna.policy.gate import DENIED, Access
from kizuna.policy.principal import Principal
from kizuna.stix.timestamps import format_micros, now_micros
from kizuna.store.types import Collection, ObjectQuery, VersionMatch
from kizuna.taxii._auth import authenticate, check_accept
from kizuna.taxii._resources import (
    Envelope,
    TaxiiResponse,
    collection_resource,
    envelope,
    error_response,
    page_headers,
    read_body,
    status_resource,
)
from kizuna.taxii.cursor import CursorCodec, filters_digest
from kizuna.taxii.filters import Filters, parse_filters
from kizuna.taxii.media import STIX, TAXII, is_taxii_content

log = logging.getLogger("kizuna.taxii")

API_ROOT = "api"


Handler = Callable[[Request], Awaitable[Response]]


_T = TypeVar("_T")

#: The threads where requests touch the store (shared by every app of the process). asyncio's
#: own executor hop costs less than anyio's (starlette's run_in_threadpool).
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="kizuna-api")


async def in_thread(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` in the API's thread pool."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, fn, *args)


def create_app(node: Node) -> Starlette:
    """The TAXII 2.1 application of *node*."""
    cfg = node.config
    cursors = CursorCodec(cfg.secret, cfg.cursor_ttl_seconds)
    local_store = node.store.dialect == "sqlite"

    def principal_of(request: Request, snap: Snapshot | None = None) -> Principal:
        return authenticate(node, request, snap)

    def sync(fn: Callable[[Request, Principal], Response]) -> Handler:
        def handle(request: Request) -> Response:
            return fn(request, principal_of(request))

        async def wrapper(request: Request) -> Response:
            try:
                check_accept(request)
                # One hop to a worker thread per request: authentication and the handler.
                return await in_thread(handle, request)
            except KizunaError as exc:
                return error_response(exc)

        return wrapper

    # -- helpers -----------------------------------------------------------------------------

    def known_collection(
        principal: Principal, cid: str, snap: Snapshot | None = None
    ) -> tuple[Collection, Access]:
        """The collection and the principal's rights there; 404 when it may do neither."""
        snap = snap or node.snapshot()
        collection = snap.collection(cid)
        access = DENIED if collection is None else snap.gate.access(principal, collection.id)
        if collection is None or (not access.can_read and not access.can_write):
            raise NotFound(f"no collection {cid!r} here (list them at /{API_ROOT}/collections/)")
        return collection, access

    def readable_collection(
        principal: Principal, cid: str, *, write: bool = False, snap: Snapshot | None = None
    ) -> Collection:
        collection, access = known_collection(principal, cid, snap)
        if write and not access.can_write:
            raise Forbidden(f"you may read but not write collection {collection.id}")
        if not write and not access.can_read:
            raise Forbidden(f"you may write but not read collection {collection.id}")
        return collection

    def filters_of(request: Request, allowed: tuple[str, ...]) -> tuple[Filters, str]:
        items = list(request.query_params.multi_items())
        f = parse_filters(
            items,
            default_limit=cfg.default_page_size,
            max_limit=cfg.max_page_size,
            allowed=allowed,
        )
        return f, filters_digest(items)

    def start_after(
        f: Filters, digest: str, collection: Collection, principal: Principal
    ) -> int | None:
        if f.next is None:
            return f.added_after
        return cursors.decode(f.next, collection.id, principal.key, digest)

    def paged_read(
        request: Request,
        principal: Principal,
        cid: str,
        object_id: str | None,
        allowed: tuple[str, ...],
    ) -> tuple[Collection, Filters, Page, str | None]:
        snap = node.snapshot()
        collection = readable_collection(principal, cid, snap=snap)
        f, digest = filters_of(request, allowed)
        after = start_after(f, digest, collection, principal)
        ids = (object_id,) if object_id else f.ids
        versions = f.versions
        query = ObjectQuery(
            collection_id=collection.id,
            after_us=after,
            types=f.types,
            ids=ids,
            spec_versions=f.spec_versions,
            versions=versions,
        )
        page = read_page(node.store, snap, principal, collection, query, f.limit)
        next_token = None
        if page.more and page.last_added is not None:
            next_token = cursors.encode(collection.id, principal.key, digest, page.last_added)
        return collection, f, page, next_token

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
        c, access = known_collection(principal, request.path_params["cid"])
        return TaxiiResponse(collection_resource(c, access))

    def get_objects(request: Request, principal: Principal) -> Response:
        _, _, page, token = paged_read(
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
        _, f, page, token = paged_read(
            request, principal, cid, oid, ("match[version]", "match[spec_version]")
        )
        if not page.items and f.next is None:
            raise NotFound(f"no object {oid} in collection {cid}")
        return TaxiiResponse(envelope(page, token), headers=page_headers(page))

    def versions(request: Request, principal: Principal) -> Response:
        oid = request.path_params["oid"]
        cid = request.path_params["cid"]
        collection = readable_collection(principal, cid)
        f, digest = filters_of(request, ("match[spec_version]",))
        after = start_after(f, digest, collection, principal)
        query = ObjectQuery(
            collection_id=collection.id,
            after_us=after,
            ids=(oid,),
            spec_versions=f.spec_versions,
            versions=VersionMatch(all=True),
        )
        page = read_page(node.store, node.snapshot(), principal, collection, query, f.limit)
        if not page.items and f.next is None:
            raise NotFound(f"no object {oid} in collection {cid}")
        body: dict[str, Any] = {"more": page.more}
        if page.more and page.last_added is not None:
            body["next"] = cursors.encode(collection.id, principal.key, digest, page.last_added)
        body["versions"] = [format_micros(i.row.version_us or i.row.added_us) for i in page.items]
        return TaxiiResponse(body, headers=page_headers(page))

    def provenance(request: Request, principal: Principal) -> Response:
        """Kizuna extension: where each visible version of an object came from, and when."""
        oid = request.path_params["oid"]
        cid = request.path_params["cid"]
        collection = readable_collection(principal, cid)
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
                        "version": format_micros(i.row.version_us or i.row.added_us),
                        "date_added": format_micros(i.row.added_us),
                        "origin": i.row.origin,
                    }
                    for i in page.items
                ],
            }
        )

    def manifest(request: Request, principal: Principal) -> Response:
        _, _, page, token = paged_read(
            request,
            principal,
            request.path_params["cid"],
            None,
            ("match[id]", "match[type]", "match[version]", "match[spec_version]"),
        )
        body: dict[str, Any] = {"more": page.more}
        if token:
            body["next"] = token
        if page.items:
            body["objects"] = [
                {
                    "id": i.row.stix_id,
                    "date_added": format_micros(i.row.added_us),
                    "version": format_micros(i.row.version_us or i.row.added_us),
                    "media_type": STIX,
                }
                for i in page.items
            ]
        return TaxiiResponse(body, headers=page_headers(page))

    def delete_object(request: Request, principal: Principal) -> Response:
        oid = request.path_params["oid"]
        cid = request.path_params["cid"]
        collection = readable_collection(principal, cid, write=True)
        f, _ = filters_of(request, ("match[version]", "match[spec_version]"))
        query = ObjectQuery(
            collection_id=collection.id,
            ids=(oid,),
            spec_versions=f.spec_versions,
            versions=f.versions
            if request.query_params.get("match[version]")
            else VersionMatch(all=True),
        )
        page = read_page(node.store, node.snapshot(), principal, collection, query, 100_000)
        if not page.items:
            raise NotFound(f"no object {oid} in collection {cid}")
        node.store.delete_versions(collection.id, [i.row.added_us for i in page.items])
        log.info(
            "deleted %d version(s) of %s from %s as %s", len(page.items), oid, cid, principal.key
        )
        return Response(status_code=200, media_type=TAXII)

    async def add_objects(request: Request) -> Response:
        try:
            check_accept(request)
            if local_store:
                # SQLite: the one query authentication needs (the policy generation) is a read
                # from the page cache, cheaper here than a hop to a thread and back.
                principal, collection, snap = writable(request)
            else:
                principal, collection, snap = await in_thread(writable, request)
            body = await read_envelope(request)
            # One hop to a worker thread for everything that touches the store.
            return await in_thread(store_objects, principal, collection, snap, body)
        except KizunaError as exc:
            return error_response(exc)

    async def read_envelope(request: Request) -> bytes:
        if not is_taxii_content(request.headers.get("content-type")):
            raise UnsupportedMediaType(
                f"send the envelope as Content-Type: {TAXII}; got "
                f"{request.headers.get('content-type')!r}"
            )
        return await read_body(request, cfg.max_body_bytes)

    def writable(request: Request) -> tuple[Principal, Collection, Snapshot]:
        snap = node.snapshot()
        principal = principal_of(request, snap)
        cid = request.path_params["cid"]
        return principal, readable_collection(principal, cid, write=True, snap=snap), snap

    def store_objects(
        principal: Principal, collection: Collection, snap: Snapshot, body: bytes
    ) -> Response:
        """Decode, ingest and record the status, in one thread."""
        try:
            env = msgspec.json.decode(body, type=Envelope)
        except msgspec.DecodeError as exc:
            raise InvalidJSON(f"the request body is not a TAXII envelope: {exc}") from None
        if env.type == "bundle":
            raise BadRequest(
                'expected a TAXII 2.1 envelope {"objects": [...]}, got a STIX bundle; send its '
                '"objects" list in an envelope'
            )
        if env.objects is None:
            raise BadRequest('expected a TAXII 2.1 envelope with an "objects" list')
        raw = [bytes(o) for o in env.objects]
        request_time = now_micros()
        status_id = str(uuid.uuid4())
        encoded = b""

        def status_row(results: list[ObjectResult]) -> tuple[str, str, str, bytes]:
            nonlocal encoded
            encoded = msgspec.json.encode(status_resource(status_id, request_time, results))
            return status_id, collection.id, principal.key, encoded

        # The status is stored in the same transaction as the objects: one commit per POST.
        results = ingest(
            node.store,
            snap,
            principal,
            collection,
            raw,
            principal.origin,
            status=status_row,
        )
        stored = sum(1 for r in results if r.stored)
        failed = sum(1 for r in results if not r.ok)
        log.info(
            "POST %s by %s: %d object(s), %d stored, %d failed",
            collection.id,
            principal.key,
            len(results),
            stored,
            failed,
        )
        return TaxiiResponse(encoded, status_code=202)

    def get_status(request: Request, principal: Principal) -> Response:
        found = node.store.status(request.path_params["sid"])
        if found is None or (found[1] != principal.key and not principal.is_admin):
            raise NotFound(f"no status {request.path_params['sid']!r}")
        return TaxiiResponse(found[2])

    routes = [
        Route("/taxii2/", sync(discovery), methods=["GET"]),
        Route(f"/{API_ROOT}/", sync(api_root), methods=["GET"]),
        Route(f"/{API_ROOT}/status/{{sid}}/", sync(get_status), methods=["GET"]),
        Route(f"/{API_ROOT}/collections/", sync(collections), methods=["GET"]),
        Route(f"/{API_ROOT}/collections/{{cid}}/", sync(collection), methods=["GET"]),
        Route(f"/{API_ROOT}/collections/{{cid}}/objects/", sync(get_objects), methods=["GET"]),
        Route(f"/{API_ROOT}/collections/{{cid}}/objects/", add_objects, methods=["POST"]),
        Route(f"/{API_ROOT}/collections/{{cid}}/manifest/", sync(manifest), methods=["GET"]),
        Route(
            f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/", sync(get_object), methods=["GET"]
        ),
        Route(
            f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/",
            sync(delete_object),
            methods=["DELETE"],
        ),
        Route(
            f"/{API_ROOT}/collections/{{cid}}/objects/{{oid}}/provenance/",
            sync(provenance),
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
            err = KizunaError(f"{request.method} is not allowed on {request.url.path}")
            err.status, err.title = 405, "Method not allowed"
        else:
            err = KizunaError(str(exc.detail))
            err.status, err.title = exc.status_code, "HTTP error"
        return error_response(err)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(KizunaError("the server hit an unexpected error; see its log"))

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.node = node
    return app
