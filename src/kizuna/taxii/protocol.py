"""The HTTP/1.1 connections of ``kizuna serve``: uvicorn's httptools protocol, with limits.

A client that opens connections and sends nothing, or trickles a request a byte at a time
(slowloris), holds a file descriptor and a little memory per connection; enough of them and
the server can accept no one else. Each connection here is held to:

- a **header deadline**: the request line and headers must arrive within
  ``header_timeout_seconds`` of the connection (or, between keep-alive requests, of the next
  request's first byte); a connection that sent nothing is closed, one that sent part of a
  request gets ``408`` first;
- a **body deadline**: the body must arrive within ``body_timeout_seconds`` of the headers
  (``408``);
- the **keep-alive timeout** between requests (uvicorn's, ``keep_alive_seconds``);
- sizes: a request target (path and query) of at most :data:`MAX_URL_BYTES` (``414``), headers
  of at most :data:`MAX_HEADER_BYTES` (``431``);
- a **connection limit** (``max_connections``, kept below the process's file limit by
  ``kizuna serve``): when a new connection would pass it, the connection idle the longest
  (between requests, or never used) is closed to make room; when every one is busy, the new
  one is answered ``503`` with ``Retry-After`` and closed.

Every refusal is a TAXII error resource, as the application's own errors are (a malformed
request too, which uvicorn answers with a bare "Invalid HTTP request received.").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import weakref
from asyncio import TimerHandle
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
import msgspec
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from kizuna.config import NodeConfig
from kizuna.errors import ConfigError
from kizuna.taxii.media import TAXII

__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_URL_BYTES",
    "RESERVED_FILES",
    "Limits",
    "Protocol",
    "error_bytes",
    "limits_of",
    "raise_file_limit",
]

log = logging.getLogger("kizuna.taxii")

#: The longest request target (path and query string) accepted, in bytes. httptools' URL
#: parser stops at 65,535; TAXII queries with a few hundred ``match[id]`` values fit.
MAX_URL_BYTES = 16_384
#: The most header bytes (names and values) accepted in one request.
MAX_HEADER_BYTES = 65_536


@dataclass(frozen=True, slots=True)
class Limits:
    """What every connection of a serving process is held to (see the module's text)."""

    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 120.0
    max_connections: int = 4096
    max_url_bytes: int = MAX_URL_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES


#: Files a serving process keeps for what it opens besides connections: the database, its
#: log and shared memory, the listening socket, database connections, peers' connections.
RESERVED_FILES = 256


def raise_file_limit() -> int:
    """Raise this process's limit of open files to the most it may have; the limit now.

    Many systems start processes with a soft limit of 1,024 files under a hard limit many
    times larger; a server raises its own, as nginx and PostgreSQL do.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def limits_of(cfg: NodeConfig) -> tuple[Limits, str | None]:
    """The limits of *cfg* for this process, and a note when its file limit lowered
    ``max_connections`` (see :func:`raise_file_limit`)."""
    for name in (
        "header_timeout_seconds",
        "body_timeout_seconds",
        "keep_alive_seconds",
        "max_connections",
    ):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} is {getattr(cfg, name)}; expected 1 or more")
    files = raise_file_limit()
    connections = min(cfg.max_connections, max(files - RESERVED_FILES, 16))
    note = None
    if connections < cfg.max_connections:
        note = (
            f"holding at most {connections} connections, not max_connections "
            f"{cfg.max_connections}: this process may open {files} files (ulimit -n)"
        )
    limits = Limits(
        header_timeout_seconds=cfg.header_timeout_seconds,
        body_timeout_seconds=cfg.body_timeout_seconds,
        max_connections=connections,
    )
    return limits, note


#: Each server's idle connections (between requests, or not used yet), in the order they became
#: idle: a dict is ordered, so the one idle the longest is found without a search.
_IDLE: weakref.WeakKeyDictionary[Any, dict[Protocol, None]] = weakref.WeakKeyDictionary()


#: Per server: connections closed and refused since the last report, the report's time.
_TOLD: weakref.WeakKeyDictionary[Any, list[float]] = weakref.WeakKeyDictionary()


class _Refused(Exception):
    """Raised in a parser callback: the request is refused (``Protocol._refusal`` says how)."""


def error_bytes(status: int, title: str, message: str, headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response carrying a TAXII error resource; the connection closes."""
    body = msgspec.json.encode(
        {"title": title, "description": message, "http_status": str(status)}
    )
    head = [STATUS_LINE[status]]
    for name, value in {
        "content-type": TAXII,
        "content-length": str(len(body)),
        "connection": "close",
        **(headers or {}),
    }.items():
        head.append(f"{name}: {value}\r\n".encode("latin-1"))
    return b"".join([*head, b"\r\n", body])


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the deadlines, sizes and connection limit above.

    ``kizuna serve`` (or the worker factory, ``kizuna.taxii.asgi.app``) sets :attr:`limits`
    from the node's settings before the first connection.
    """

    limits: ClassVar[Limits] = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: TimerHandle | None = None
        self._refusal: tuple[int, str, str] | None = None
        self._header_bytes = 0
        self._reading = False  # between a request's first byte and its end
        self._idle_since = self.loop.time()
        #: This server's idle connections, the one idle the longest first.
        self._idle_ones = _IDLE.setdefault(self.server_state, {})

    # -- connection ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout_seconds, self._headers_too_slow)
        if len(self.connections) > self.limits.max_connections:
            self._make_room()
        self._now_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._idle_ones.pop(self, None)
        super().connection_lost(exc)

    def _now_idle(self) -> None:
        self._idle_since = self.loop.time()
        self._idle_ones.pop(self, None)
        self._idle_ones[self] = None  # last: idle the shortest

    def _now_busy(self) -> None:
        self._idle_ones.pop(self, None)

    def _make_room(self) -> None:
        """Close the connection idle the longest; refuse this one if none is idle."""
        oldest = next(iter(self._idle_ones), None)
        if oldest is not None:
            self._idle_ones.pop(oldest)
            oldest.transport.close()
            self._tell(closed=1)
            return
        self._tell(refused=1)
        self._send_and_close(
            503,
            "Service unavailable",
            f"this server holds at most {self.limits.max_connections} connections and every "
            "one is busy; retry in a few seconds",
            {"retry-after": "5"},
        )

    def _tell(self, closed: int = 0, refused: int = 0) -> None:
        """Log what the connection limit did: at once, then at most every 10 seconds."""
        told = _TOLD.setdefault(self.server_state, [0, 0, -1e9])
        told[0] += closed
        told[1] += refused
        now = self.loop.time()
        if now - told[2] >= 10:
            log.warning(
                "%d connections open (max_connections %d): closed %d idle and refused %d "
                "new ones since the last report",
                len(self.connections),
                self.limits.max_connections,
                told[0],
                told[1],
            )
            told[:] = [0, 0, now]

    # -- deadlines -----------------------------------------------------------------------------

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if not self._reading:
            self.transport.close()  # nothing sent: an idle connection, closed quietly
            return
        log.info("closed a connection whose request headers took over %s s", self._seconds())
        self._send_and_close(
            408,
            "Request timeout",
            f"the request line and headers did not arrive within {self._seconds()} s "
            "(header_timeout_seconds)",
        )

    def _body_too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        seconds = self.limits.body_timeout_seconds
        log.info("closed a connection whose request body took over %g s", seconds)
        if self.cycle is not None and not self.cycle.response_started:
            # The application, waiting for the body, then sees the client gone.
            self._send_and_close(
                408,
                "Request timeout",
                f"the request body did not arrive within {seconds:g} s of its headers "
                "(body_timeout_seconds)",
            )
        else:
            self.transport.close()

    def _seconds(self) -> str:
        return f"{self.limits.header_timeout_seconds:g}"

    # -- parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading = True
        self._now_busy()
        self._header_bytes = 0
        if self._deadline is None:  # a keep-alive connection's next request
            self._arm(self.limits.header_timeout_seconds, self._headers_too_slow)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            self._refusal = (
                414,
                "URI too long",
                f"the request target (path and query) is longer than "
                f"{self.limits.max_url_bytes} bytes; ask for fewer match[id] values per "
                "request, or page with next",
            )
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > self.limits.max_header_bytes:
            self._refusal = (
                431,
                "Request header fields too large",
                f"the request's headers are longer than {self.limits.max_header_bytes} bytes",
            )
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._arm(self.limits.body_timeout_seconds, self._body_too_slow)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._reading = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # starts a pipelined request, if one was read
        if not self._reading and (self.cycle is None or self.cycle.response_complete):
            self._now_idle()

    # -- refusals ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        """uvicorn's, with the parser's refusals logged by what they are."""
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no protocol upgrades here: the request is answered as HTTP/1.1
        except httptools.HttpParserError as exc:
            if self._refusal is None:
                log.info("refused a request that is not valid HTTP/1.1 (%s)", exc)
            self.send_400_response(str(exc))

    def send_400_response(self, msg: str) -> None:
        """A request the parser refused: a TAXII error, then the connection closes."""
        status, title, message = self._refusal or (
            400,
            "Bad request",
            "the request is not valid HTTP/1.1 (request line, headers or chunked body)",
        )
        self._send_and_close(status, title, message)

    def _send_and_close(
        self, status: int, title: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(error_bytes(status, title, message, headers))
            self.transport.close()
