"""Kizuna extension: the objects related to one object by shared observable values.

``GET /api/collections/{id}/objects/{object-id}/related/`` answers what ``kizuna related``
answers (:func:`kizuna.cyber.correlate.related`, the same function, through the same gate) for
an object the caller may see in that collection; the related objects may lie in any
collection the caller may read. Paged by ``limit`` and the signed ``next`` of the previous
page; an object absent or hidden answers the same 404.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from kizuna.cyber.benign import stored_benign
from kizuna.cyber.correlate import related
from kizuna.errors import BadRequest, NotFound
from kizuna.node import read_page
from kizuna.policy.principal import Principal
from kizuna.store.types import ObjectQuery, VersionMatch
from kizuna.taxii._context import Context
from kizuna.taxii._resources import TaxiiResponse

__all__ = ["related_endpoint"]

#: Related objects per page unless ``limit`` says otherwise.
DEFAULT_LIMIT: Final = 100


def related_endpoint(ctx: Context) -> Any:
    node = ctx.node

    def handler(request: Request, principal: Principal) -> Response:
        oid = request.path_params["oid"]
        cid = request.path_params["cid"]
        snap = node.snapshot()
        collection = ctx.readable_collection(principal, cid, snap=snap)
        limit, token = _params(request, ctx.cfg.max_page_size)
        digest = f"related:{oid}"
        after = (
            -1
            if token is None
            else ctx.cursors.decode(token, collection.id, str(principal.key), digest)
        )
        query = ObjectQuery(
            collection_id=collection.id, ids=(oid,), versions=VersionMatch(all=True)
        )
        if not read_page(node.store, snap, principal, collection, query, 1).items:
            raise NotFound(f"no object {oid} in collection {cid}")
        page = related(
            node, principal, oid, limit=limit, after=after, benign=stored_benign(node.store)
        )
        body: dict[str, Any] = {"id": oid, "more": page.next is not None}
        if page.next is not None:
            body["next"] = ctx.cursors.encode(collection.id, str(principal.key), digest, page.next)
        body["related"] = [r.to_json() for r in page.items]
        return TaxiiResponse(body)

    return ctx.sync(handler)


def _params(request: Request, max_limit: int) -> tuple[int, str | None]:
    limit, token = DEFAULT_LIMIT, None
    for key, value in request.query_params.multi_items():
        if key == "limit":
            if not value.isdigit() or not 1 <= int(value) <= max_limit:
                raise BadRequest(
                    f"limit must be a whole number from 1 to {max_limit}, not {value!r}"
                )
            limit = int(value)
        elif key == "next":
            token = value
        else:
            raise BadRequest(
                f"unknown parameter {key!r}: the related endpoint takes limit and next"
            )
    return limit, token
