"""TAXII 2.1 resources on the wire: the response class, the error resource, the status resource,
collection resources, pages (envelope and headers), the envelope a POST sends, and a body reader
that refuses oversize bodies."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from kizuna.errors import BadRequest, KizunaError, PayloadTooLarge, ServiceUnavailable
from kizuna.node import ObjectResult, Page
from kizuna.policy.gate import Access
from kizuna.stix.limits import MAX_JSON_DEPTH, MAX_OBJECT_DEPTH, json_depth
from kizuna.stix.timestamps import format_added, format_micros
from kizuna.store.types import Collection
from kizuna.taxii.media import STIX, TAXII


class TaxiiResponse(Response):
    media_type = TAXII

    def __init__(
        self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        body = content if isinstance(content, bytes) else msgspec.json.encode(content)
        super().__init__(body, status_code=status_code, headers=headers)


def error_response(exc: KizunaError) -> TaxiiResponse:
    body: dict[str, Any] = {
        "title": exc.title,
        "description": exc.message,
        "http_status": str(exc.status),
    }
    if exc.details:
        body["details"] = exc.details
    headers = {"WWW-Authenticate": 'Basic realm="kizuna", Bearer'} if exc.status == 401 else None
    if isinstance(exc, ServiceUnavailable):
        headers = {"Retry-After": str(exc.retry_after)}
    return TaxiiResponse(body, status_code=exc.status, headers=headers)


class Envelope(msgspec.Struct):
    """The body of a POST: a TAXII envelope, or a STIX bundle (whose id and type go unread)."""

    objects: list[msgspec.Raw] | None = None
    more: bool | None = None
    next: str | None = None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything larger than *limit* bytes."""
    declared = request.headers.get("content-length") or ""
    # (ASCII digits only, and no more than an integer of 64 bits holds: int() refuses 4,300.)
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise PayloadTooLarge(
            f"the body is {declared if len(declared) <= 18 else 'over 10**18'} bytes; this "
            f"server accepts at most {limit} (max_content_length of the API root): split the "
            "envelope"
        )
    chunks = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(
                    f"the body exceeds {limit} bytes (max_content_length of the API root): "
                    "split the envelope"
                )
            chunks.append(chunk)
    except ClientDisconnect:
        # The client went away, or its body took too long (body_timeout_seconds): no one
        # reads this answer.
        raise BadRequest(f"the connection closed after {size} bytes of the body") from None
    return b"".join(chunks)


def check_depth(body: bytes) -> None:
    """Refuse (400) a body nested deeper than :data:`~kizuna.stix.limits.MAX_JSON_DEPTH`,
    before any decoder or other recursive code reads it."""
    depth = json_depth(body)
    if depth > MAX_JSON_DEPTH:
        raise BadRequest(
            f"the body nests arrays and objects {depth} levels deep; at most {MAX_JSON_DEPTH} "
            f"are accepted (an object inside the envelope: {MAX_OBJECT_DEPTH})"
        )


def status_resource(status_id: str, request_us: int, results: list[ObjectResult]) -> dict[str, Any]:
    successes = [{"id": r.id, "version": r.version, "message": r.message} for r in results if r.ok]
    failures = [
        {
            k: v
            for k, v in (("id", r.id), ("version", r.version), ("message", r.message))
            if v is not None
        }
        for r in results
        if not r.ok
    ]
    return {
        "id": status_id,
        "status": "complete",
        "request_timestamp": format_micros(request_us),
        "total_count": len(results),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }


def collection_resource(c: Collection, access: Access) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "can_read": access.can_read,
        "can_write": access.can_write,
        "media_types": [STIX],
    }
    if c.description:
        out["description"] = c.description
    if c.alias:
        out["alias"] = c.alias
    return out


def page_headers(page: Page) -> dict[str, str]:
    if not page.items:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_added(page.items[0].row.added_us),
        "X-TAXII-Date-Added-Last": format_added(page.items[-1].row.added_us),
    }


def envelope(page: Page, next_token: str | None) -> bytes:
    """A page as a TAXII envelope: the stored bytes of its objects, spliced (no re-encoding).

    An empty last page is the empty envelope ``{}`` ("more" defaults to false), as the OASIS
    reference server answers it."""
    if not page.items and not page.more and not next_token:
        return b"{}"
    head = b'{"more":' + (b"true" if page.more else b"false")
    if next_token:
        head += b',"next":' + msgspec.json.encode(next_token)
    if not page.items:
        return head + b"}"
    return head + b',"objects":[' + b",".join(i.body for i in page.items) + b"]}"
