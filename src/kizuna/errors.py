"""Kizuna's exceptions. Each carries the HTTP status it maps to; one handler renders them.

::

    KizunaError (500)
     ├── BadRequest (400)
     │    ├── InvalidJSON
     │    ├── InvalidFilter
     │    └── InvalidCursor
     ├── Unauthorized (401)
     ├── Forbidden (403)
     ├── NotFound (404)
     ├── NotAcceptable (406)
     ├── PayloadTooLarge (413)
     ├── UnsupportedMediaType (415)
     ├── InvalidInput (422, for files and CLI input: a whole file that cannot be used)
     ├── ServiceUnavailable (503, with Retry-After: the database cannot serve now)
     ├── InsufficientStorage (507, the node's disk is full)
     └── ConfigError (500, a node directory that is missing or broken)

Messages are written for the person who will read them: what was expected, what was given.
"""

from __future__ import annotations


class KizunaError(Exception):
    """Base of every error Kizuna raises on purpose."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(KizunaError):
    status = 400
    title = "Bad request"


class InvalidJSON(BadRequest):
    title = "Malformed JSON"


class InvalidFilter(BadRequest):
    title = "Invalid filter"


class InvalidCursor(BadRequest):
    title = "Invalid next cursor"


class Unauthorized(KizunaError):
    status = 401
    title = "Authentication required"


class Forbidden(KizunaError):
    status = 403
    title = "Forbidden"


class NotFound(KizunaError):
    status = 404
    title = "Not found"


class NotAcceptable(KizunaError):
    status = 406
    title = "Not acceptable"


class PayloadTooLarge(KizunaError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(KizunaError):
    status = 415
    title = "Unsupported media type"


class InvalidInput(KizunaError):
    status = 422
    title = "Invalid input"


class ServiceUnavailable(KizunaError):
    status = 503
    title = "Service unavailable"
    #: Seconds a client should wait before it retries (the ``Retry-After`` header).
    retry_after = 5


class InsufficientStorage(KizunaError):
    status = 507
    title = "Insufficient storage"


class ConfigError(KizunaError):
    status = 500
    title = "Node configuration error"
