"""Who is asking, and in which media type: credentials and the Accept header of a request."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from kizuna.errors import NotAcceptable, Unauthorized
from kizuna.node import Node, Snapshot
from kizuna.policy.principal import Principal
from kizuna.taxii.media import TAXII, acceptable


def authenticate(node: Node, request: Request, snap: Snapshot | None = None) -> Principal:
    """The principal the request's credentials name (HTTP Basic or Bearer), or 401."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized(
            "this server needs credentials: HTTP Basic with your user name and API token "
            "as password, or 'Authorization: Bearer TOKEN'"
        )
    scheme, _, value = header.partition(" ")
    principal = None
    if scheme.lower() == "bearer" and value.strip():
        principal = node.authenticate(value.strip(), snap=snap)
    elif scheme.lower() == "basic":
        try:
            user, _, token = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized(
                "the Basic credentials are not valid base64 of user:token"
            ) from None
        principal = node.authenticate(token, user, snap)
    else:
        raise Unauthorized(f"unsupported authorization scheme {scheme!r}; use Basic or Bearer")
    if principal is None:
        raise Unauthorized("unknown user or wrong token")
    return principal


def check_accept(request: Request) -> None:
    """406 unless the request accepts the TAXII 2.1 media type."""
    accept = request.headers.get("accept")
    if not acceptable(accept):
        raise NotAcceptable(
            f"this endpoint answers only {TAXII}; the request's Accept header was {accept!r}"
        )
