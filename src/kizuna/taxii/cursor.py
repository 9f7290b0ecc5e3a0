"""Stateless, tamper-proof ``next`` cursors.

A cursor names the position after which the next page starts (an ``added_us``), bound to the
collection, the principal and the filters of the request, signed with the node's secret and
valid for a limited time. It works across processes and restarts; a forged, altered, foreign
or expired cursor is refused with a message that says which.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import msgspec

from kizuna.errors import InvalidCursor

__all__ = ["CursorCodec", "filters_digest"]


class _Payload(msgspec.Struct, array_like=True):
    collection: str
    principal: str
    filters: str
    after: int
    issued: int


def filters_digest(items: list[tuple[str, str]]) -> str:
    """A short digest of the request's ``match[...]`` filters.

    ``limit`` may change from page to page, and ``added_after`` is superseded by the cursor's
    position, so neither is part of it.
    """
    kept = sorted((k, v) for k, v in items if k.startswith("match["))
    return hashlib.sha256(repr(kept).encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = hashlib.sha256(("kizuna-cursor:" + secret).encode()).digest()
        self._ttl = ttl_seconds

    def encode(self, collection: str, principal: str, filters: str, after: int) -> str:
        payload = msgspec.json.encode(
            _Payload(collection, principal, filters, after, int(time.time()))
        )
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return f"{_b64(payload)}.{_b64(mac)}"

    def decode(self, token: str, collection: str, principal: str, filters: str) -> int:
        """The position a cursor names, after checking it belongs to this request."""
        try:
            body, _mac = token.split(".", 1)
            payload = _unb64(body)
        except (ValueError, TypeError) as exc:
            raise InvalidCursor(
                f"'next' is not a cursor this server issued ({exc}); use the 'next' value of "
                "the previous page unchanged"
            ) from None
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        canonical = f"{_b64(payload)}.{_b64(expected)}"
        if not hmac.compare_digest(token.encode(), canonical.encode()):
            raise InvalidCursor(
                "'next' has been altered or was issued by another server; use the 'next' value "
                "of the previous page unchanged"
            )
        p = msgspec.json.decode(payload, type=_Payload)
        if p.collection != collection or p.principal != principal:
            raise InvalidCursor("'next' belongs to another collection or user")
        if p.filters != filters:
            raise InvalidCursor(
                "'next' was issued for different filters; repeat the same match[...] "
                "parameters as the first request"
            )
        if time.time() - p.issued > self._ttl:
            raise InvalidCursor(
                f"'next' has expired (cursors are valid for {self._ttl} s); start again "
                "without 'next', using added_after to resume"
            )
        return p.after
