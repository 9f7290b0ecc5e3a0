"""The request log: one line per HTTP request, on the ``kizuna.access`` logger.

Each line says who asked for what and how it went::

    127.0.0.1:51234 "POST /api/collections/bench/objects/" 202 4.3 ms user:admin

(client address, method and path with its query, status, time until the last byte of the
answer was handed to the server, and the principal the request authenticated as, ``-`` when
it did not). It replaces uvicorn's access log, which could not say who asked; the two cost
the same, and neither measurably changes POST rates (``bench/post_ab.py``,
docs/benchmarks.md). Lines are written only when the logger is enabled for INFO: ``kizuna
serve`` enables it unless given ``--no-access-log``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("kizuna.access")

#: The scope key where authentication leaves the principal's key for this log.
PRINCIPAL = "kizuna.principal"


class AccessLog:
    """ASGI middleware writing the request log (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info(
                '%s "%s %s" %s %.1f ms %s',
                _client(scope),
                scope["method"],
                printable(_target(scope)),
                status or "-",
                (time.perf_counter() - start) * 1000,
                printable(str(scope.get(PRINCIPAL, "-"))),
            )


def printable(text: str) -> str:
    """*text* with each character that is not printable (a line break, a control character)
    written as its escape, so that what a client sends (a path with ``%0a``, a user's name)
    stays on its own line of the log and cannot pass for another.

    >>> printable("/api/\\n2026-12-05 INFO forged"), printable("user:Ана 新人")
    ('/api/\\\\n2026-12-05 INFO forged', 'user:Ана 新人')
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _client(scope: Scope) -> str:
    client: Any = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


def _target(scope: Scope) -> str:
    query: bytes = scope.get("query_string", b"")
    path: str = scope["path"]
    return f"{path}?{query.decode('latin-1')}" if query else path
