"""The TAXII endpoints that write: POST objects (and the status resources it leaves), DELETE an
object.

A POST authenticates on the event loop when the store is SQLite (its one query is a read from
the page cache) and in a worker thread otherwise, reads the body there, then makes one hop to a
worker thread for everything that touches the store: decoding the envelope, ``ingest``, and the
status resource stored in the same transaction as the objects.
"""

from __future__ import annotations

import logging
import time
import uuid

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from kizuna.errors import (
    BadRequest,
    ConfigError,
    InvalidJSON,
    KizunaError,
    NotFound,
    UnsupportedMediaType,
)
from kizuna.node import Snapshot, check_batch, read_page, store_batch
from kizuna.policy.principal import Principal
from kizuna.stix.timestamps import now_micros
from kizuna.store.types import Collection, ObjectQuery, StatusRow, VersionMatch
from kizuna.taxii._access import printable
from kizuna.taxii._auth import check_accept
from kizuna.taxii._context import Context, in_thread
from kizuna.taxii._resources import (
    Envelope,
    TaxiiResponse,
    check_depth,
    error_response,
    read_body,
    status_resource,
)
from kizuna.taxii._slices import LARGE_BODY, ingest_in_slices
from kizuna.taxii.media import TAXII, is_taxii_content

log = logging.getLogger("kizuna.taxii")

#: Seconds between two deletions of expired status resources by one process.
PRUNE_EVERY_SECONDS = 3600.0


class Writes:
    """The write endpoints of one node's API."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._retention_days = ctx.cfg.status_retention_days
        if self._retention_days < 0:
            raise ConfigError(
                f"status_retention_days is {self._retention_days}; expected a number of days, "
                "or 0 to keep status resources for ever"
            )
        self._next_prune = 0.0  # time.monotonic(): the first POST prunes

    def delete_object(self, request: Request, principal: Principal) -> Response:
        """DELETE an object's versions (all, or those ``match[version]`` names)."""
        oid = request.path_params["oid"]
        cid = request.path_params["cid"]
        collection = self._ctx.readable_collection(principal, cid, write=True)
        f, _ = self._ctx.filters_of(request, ("match[version]", "match[spec_version]"))
        query = ObjectQuery(
            collection_id=collection.id,
            ids=(oid,),
            spec_versions=f.spec_versions,
            versions=f.versions
            if request.query_params.get("match[version]")
            else VersionMatch(all=True),
        )
        page = read_page(
            self._ctx.node.store, self._ctx.node.snapshot(), principal, collection, query, 100_000
        )
        if not page.items:
            raise NotFound(f"no object {oid} in collection {cid}")
        self._ctx.node.store.delete_versions(collection.id, [i.row.added_us for i in page.items])
        log.info(
            "deleted %d version(s) of %s from %s as %s", len(page.items), printable(oid),
            printable(cid), printable(str(principal.key)),
        )
        return Response(status_code=200, media_type=TAXII)

    async def add_objects(self, request: Request) -> Response:
        """POST an envelope (or a STIX bundle): every object judged on its own, one status
        resource."""
        ctx = self._ctx
        ctx.active += 1
        try:
            check_accept(request)
            if ctx.local_store:
                # SQLite: the one query authentication needs (the policy generation) is a read
                # from the page cache, cheaper here than a hop to a thread and back.
                principal, collection, snap = self._writable(request)
            else:
                principal, collection, snap = await ctx.run(self._writable, request)
            body = await self._read_envelope(request)
            if len(body) > LARGE_BODY:
                return await self._store_in_slices(principal, collection, body)
            # One step for everything that touches the store (one hop, if any).
            return await ctx.run(self._store_objects, principal, collection, snap, body)
        except KizunaError as exc:
            return error_response(exc)
        finally:
            ctx.active -= 1

    async def _read_envelope(self, request: Request) -> bytes:
        if not is_taxii_content(request.headers.get("content-type")):
            raise UnsupportedMediaType(
                f"send the envelope as Content-Type: {TAXII}; got "
                f"{request.headers.get('content-type')!r}"
            )
        return await read_body(request, self._ctx.cfg.max_body_bytes)

    def _writable(self, request: Request) -> tuple[Principal, Collection, Snapshot]:
        snap = self._ctx.node.snapshot()
        principal = self._ctx.principal_of(request, snap)
        cid = request.path_params["cid"]
        return principal, self._ctx.readable_collection(principal, cid, write=True, snap=snap), snap

    def _store_objects(
        self, principal: Principal, collection: Collection, snap: Snapshot, body: bytes
    ) -> Response:
        """Decode, ingest and record the status, in one thread."""
        check_depth(body)
        try:
            env = msgspec.json.decode(body, type=Envelope)
        except msgspec.DecodeError as exc:
            raise InvalidJSON(f"the request body is not a TAXII envelope: {exc}") from None
        # A STIX bundle is taken as the envelope of its objects (the OASIS stix2 library's
        # TAXIICollectionSink, cytaxii2 and scripts posting an exported file send bundles);
        # its own id and type are not read.
        if env.objects is None:
            raise BadRequest(
                'expected a TAXII 2.1 envelope {"objects": [...]} (or a STIX bundle) with an '
                '"objects" list'
            )
        raw = [bytes(o) for o in env.objects]
        request_time = now_micros()
        status_id = str(uuid.uuid4())
        store = self._ctx.node.store
        batch = check_batch(store, snap, principal, collection, raw, principal.origin)
        # The status is stored in the same transaction as the objects: one commit per POST.
        with store.transaction() as tx:
            results = store_batch(tx, batch)
            encoded = msgspec.json.encode(status_resource(status_id, request_time, results))
            tx.put_status(StatusRow(status_id, collection.id, str(principal.key), encoded))
        self._prune_statuses()
        stored = sum(1 for r in results if r.stored)
        failed = sum(1 for r in results if not r.ok)
        log.info(
            "POST %s by %s: %d object(s), %d stored, %d failed",
            collection.id,
            printable(str(principal.key)),
            len(results),
            stored,
            failed,
        )
        return TaxiiResponse(encoded, status_code=202)

    async def _store_in_slices(
        self, principal: Principal, collection: Collection, body: bytes
    ) -> Response:
        """A very large envelope, slice by slice, in worker threads (taxii/_slices.py)."""
        status_id = str(uuid.uuid4())
        results, encoded = await ingest_in_slices(
            self._ctx.node,
            principal,
            collection,
            body,
            status_id,
            now_micros(),
            lambda: self._ctx.active > 1,
        )
        await in_thread(self._prune_statuses)
        log.info(
            "POST %s by %s: %d object(s) in slices, %d stored, %d failed",
            collection.id,
            printable(str(principal.key)),
            len(results),
            sum(1 for r in results if r.stored),
            sum(1 for r in results if not r.ok),
        )
        return TaxiiResponse(encoded, status_code=202)

    def _prune_statuses(self) -> None:
        """Delete the status resources past the node's retention: at most once every
        PRUNE_EVERY_SECONDS in a process, after a POST (which makes them)."""
        now = time.monotonic()
        if self._retention_days == 0 or now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY_SECONDS
        cutoff = now_micros() - self._retention_days * 86_400_000_000
        gone = self._ctx.node.store.prune_statuses(cutoff)
        if gone:
            log.info(
                "deleted %d status resource(s) older than %d day(s)", gone, self._retention_days
            )

    def get_status(self, request: Request, principal: Principal) -> Response:
        """GET a status resource (its writer's, or any for an administrator)."""
        found = self._ctx.node.store.status(request.path_params["sid"])
        if found is None or (found[1] != str(principal.key) and not principal.is_admin):
            kept = (
                f" (status resources are kept for {self._retention_days} days)"
                if self._retention_days
                else ""
            )
            raise NotFound(f"no status {request.path_params['sid']!r}{kept}")
        return TaxiiResponse(found[2])
