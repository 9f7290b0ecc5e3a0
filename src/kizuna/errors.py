"""Kizuna's exceptions: one tree. Each carries the HTTP status it maps to; one handler renders them.

::

    KizunaError (500)
     ├── BadRequest (400)
     │    ├── InvalidJSON
     │    ├── InvalidFilter
     │    ├── InvalidCursor
     │    └── TimestampError (also a ValueError)
     ├── Unauthorized (401)
     ├── Forbidden (403)
     ├── NotFound (404)
     ├── MethodNotAllowed (405)
     ├── NotAcceptable (406)
     ├── PayloadTooLarge (413)
     ├── UnsupportedMediaType (415)
     ├── HTTPStatusError (the status Starlette's router gave)
     ├── InvalidInput (422, for files and CLI input: a whole file that cannot be used)
     │    └── RecordError (also a ValueError; one record of a data file: TLE, OMM, CDM)
     ├── ServiceUnavailable (503, with Retry-After: the database cannot serve now)
     ├── InsufficientStorage (507, the node's disk is full)
     ├── SyncError (502, a peer node that failed or refused, after retries)
     └── ConfigError (500, a node directory that is missing or broken)

Messages are written for the person who will read them: what was expected, what was given.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "ConfigError",
    "Forbidden",
    "HTTPStatusError",
    "InsufficientStorage",
    "InvalidCursor",
    "InvalidFilter",
    "InvalidInput",
    "InvalidJSON",
    "KizunaError",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotFound",
    "PayloadTooLarge",
    "RecordError",
    "ServiceUnavailable",
    "SyncError",
    "TimestampError",
    "Unauthorized",
    "UnsupportedMediaType",
]


class KizunaError(Exception):
    """Base of every error Kizuna raises on purpose (500 when nothing more precise fits)."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(KizunaError):
    """A request that cannot be served as sent (400)."""

    status = 400
    title = "Bad request"


class InvalidJSON(BadRequest):
    """A request body that is not JSON, or not the JSON document expected (400)."""

    title = "Malformed JSON"


class InvalidFilter(BadRequest):
    """A TAXII filter (``match[...]``, ``added_after``, ``limit``) that cannot be used (400)."""

    title = "Invalid filter"


class InvalidCursor(BadRequest):
    """A ``next`` cursor this node did not give, or no longer accepts (400)."""

    title = "Invalid next cursor"


class TimestampError(BadRequest, ValueError):
    """A string that is not a STIX 2.1 timestamp; the message shows the expected form (400)."""

    title = "Invalid timestamp"


class Unauthorized(KizunaError):
    """No credentials, or credentials this node does not know (401)."""

    status = 401
    title = "Authentication required"


class Forbidden(KizunaError):
    """A known principal asking for what it may not do (403)."""

    status = 403
    title = "Forbidden"


class NotFound(KizunaError):
    """Nothing there, or nothing the principal may know is there (404)."""

    status = 404
    title = "Not found"


class MethodNotAllowed(KizunaError):
    """An endpoint that exists, asked with a method it does not answer (405)."""

    status = 405
    title = "Method not allowed"


class NotAcceptable(KizunaError):
    """An ``Accept`` header that names no media type this endpoint answers in (406)."""

    status = 406
    title = "Not acceptable"


class PayloadTooLarge(KizunaError):
    """A request body over the node's limit (413)."""

    status = 413
    title = "Payload too large"


class UnsupportedMediaType(KizunaError):
    """A request body sent as a media type this endpoint does not take (415)."""

    status = 415
    title = "Unsupported media type"


class HTTPStatusError(KizunaError):
    """Another HTTP error of the web framework, with the status it gave."""

    title = "HTTP error"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class InvalidInput(KizunaError):
    """A file or command-line input that cannot be used as a whole (422)."""

    status = 422
    title = "Invalid input"


class RecordError(InvalidInput, ValueError):
    """One record of a data file that cannot be used: where, the problem, expected, given (422).

    Printed on up to four lines: the source, the place and the problem; the expected form;
    what was given (*line*); with *columns* (1-based, inclusive), carets under the offending part of
    it. Subclasses name their format's default source.

    >>> print(RecordError("bad epoch", source="x.tle", where="line 1", expected="YYDDD.DDDDDDDD",
    ...                   line="26O01.5", columns=(3, 3)))
    x.tle line 1: bad epoch
        expected: YYDDD.DDDDDDDD
        got:      26O01.5
                    ^
    """

    default_source = "<input>"
    #: How far the given line is indented in the message (for the carets under it).
    INDENT = len("    got:      ")

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        where: str = "",
        expected: str = "",
        line: str = "",
        columns: tuple[int, int] | None = None,
    ) -> None:
        source = self.default_source if source is None else source
        lines = [f"{source} {where}".strip() + f": {problem}"]
        if expected:
            lines.append(f"    expected: {expected}")
        if line:
            lines.append(f"    got:      {line}")
            if columns is not None:
                first, last = columns
                lines.append(" " * (self.INDENT + first - 1) + "^" * (last - first + 1))
        super().__init__("\n".join(lines), details={"source": source, "where": where})
        self.problem = problem
        self.source = source
        self.where = where
        self.expected = expected
        self.line = line


class ServiceUnavailable(KizunaError):
    """A database that cannot serve now: unreachable, or locked too long; retry later (503)."""

    status = 503
    title = "Service unavailable"
    #: Seconds a client should wait before it retries (the ``Retry-After`` header).
    retry_after = 5


class InsufficientStorage(KizunaError):
    """The node's disk is full (507)."""

    status = 507
    title = "Insufficient storage"


class SyncError(KizunaError):
    """A sync step that failed for good: after retries, or at once when retrying is futile (502)."""

    status = 502
    title = "Peer node failed"


class ConfigError(KizunaError):
    """A node directory that is missing or broken (500)."""

    status = 500
    title = "Node configuration error"
