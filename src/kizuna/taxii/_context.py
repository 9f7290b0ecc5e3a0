"""What every TAXII endpoint of one node shares: its node, the caller, the collection asked for,
the filters and the paged read under the caller's policy, and the thread pool where requests
touch the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from kizuna.errors import Forbidden, KizunaError, NotFound
from kizuna.node import Node, Page, Snapshot, read_page
from kizuna.policy.gate import DENIED, Access
from kizuna.policy.principal import Principal
from kizuna.store.types import Collection, ObjectQuery
from kizuna.taxii._access import PRINCIPAL
from kizuna.taxii._auth import authenticate, check_accept
from kizuna.taxii._resources import error_response
from kizuna.taxii.cursor import CursorCodec, filters_digest
from kizuna.taxii.filters import Filters, parse_filters

API_ROOT = "api"

Handler = Callable[[Request], Awaitable[Response]]

_T = TypeVar("_T")

#: The threads where requests touch the store (shared by every app of the process). asyncio's
#: own executor hop costs less than anyio's (starlette's run_in_threadpool).
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="kizuna-api")


async def in_thread(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` in the API's thread pool."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, fn, *args)


class Context:
    """The node behind the endpoints, and the steps most of them take."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.cfg = node.config
        self.cursors = CursorCodec(self.cfg.secret, self.cfg.cursor_ttl_seconds)
        #: SQLite: the store is a file of this process, its reads come from the page cache.
        self.local_store = node.store.dialect == "sqlite"

    #: Requests of this app being handled now (counted on the event loop's thread).
    active = 0

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)`` for the request being handled: in a worker thread while other requests
        are in flight, so that they go on meanwhile; on the event loop's own thread when it is
        the only one. A hop to a thread and back costs about 160 us on a small virtual machine
        (4 % of a POST of 100 objects), and alone there is nothing to overlap it with. A
        request that arrives meanwhile waits for this one to finish before it is read."""
        if self.active == 1:
            return fn(*args)
        return await in_thread(fn, *args)

    def principal_of(self, request: Request, snap: Snapshot | None = None) -> Principal:
        principal = authenticate(self.node, request, snap)
        request.scope[PRINCIPAL] = str(principal.key)  # for the request log
        return principal

    def sync(self, fn: Callable[[Request, Principal], Response]) -> Handler:
        """An endpoint from *fn*, which runs with the caller's authentication in one step
        (see :meth:`run`)."""

        def handle(request: Request) -> Response:
            return fn(request, self.principal_of(request))

        async def endpoint(request: Request) -> Response:
            self.active += 1
            try:
                check_accept(request)
                # Authentication and the handler in one step (one hop, if any).
                return await self.run(handle, request)
            except KizunaError as exc:
                return error_response(exc)
            finally:
                self.active -= 1

        return endpoint

    def known_collection(
        self, principal: Principal, cid: str, snap: Snapshot | None = None
    ) -> tuple[Collection, Access]:
        """The collection and the principal's rights there; 404 when it may do neither."""
        snap = snap or self.node.snapshot()
        collection = snap.collection(cid)
        access = DENIED if collection is None else snap.gate.access(principal, collection.id)
        if collection is None or (not access.can_read and not access.can_write):
            raise NotFound(f"no collection {cid!r} here (list them at /{API_ROOT}/collections/)")
        return collection, access

    def readable_collection(
        self, principal: Principal, cid: str, *, write: bool = False, snap: Snapshot | None = None
    ) -> Collection:
        collection, access = self.known_collection(principal, cid, snap)
        if write and not access.can_write:
            raise Forbidden(f"you may read but not write collection {collection.id}")
        if not write and not access.can_read:
            raise Forbidden(f"you may write but not read collection {collection.id}")
        return collection

    def filters_of(self, request: Request, allowed: tuple[str, ...]) -> tuple[Filters, str]:
        items = list(request.query_params.multi_items())
        f = parse_filters(
            items,
            default_limit=self.cfg.default_page_size,
            max_limit=self.cfg.max_page_size,
            allowed=allowed,
        )
        return f, filters_digest(items)

    def start_after(
        self, f: Filters, digest: str, collection: Collection, principal: Principal
    ) -> int | None:
        if f.next is None:
            return f.added_after
        return self.cursors.decode(f.next, collection.id, str(principal.key), digest)

    def paged_read(
        self,
        request: Request,
        principal: Principal,
        cid: str,
        object_id: str | None,
        allowed: tuple[str, ...],
    ) -> tuple[Collection, Filters, Page, str | None]:
        snap = self.node.snapshot()
        collection = self.readable_collection(principal, cid, snap=snap)
        f, digest = self.filters_of(request, allowed)
        after = self.start_after(f, digest, collection, principal)
        ids = (object_id,) if object_id else f.ids
        query = ObjectQuery(
            collection_id=collection.id,
            after_us=after,
            types=f.types,
            ids=ids,
            spec_versions=f.spec_versions,
            versions=f.versions,
        )
        page = read_page(self.node.store, snap, principal, collection, query, f.limit)
        next_token = None
        if page.more and page.last_added is not None:
            next_token = self.cursors.encode(collection.id, str(principal.key), digest, page.last_added)
        return collection, f, page, next_token
