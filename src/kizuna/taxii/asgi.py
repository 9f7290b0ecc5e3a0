"""The application of a ``kizuna serve`` process.

:func:`app` is the factory of ``kizuna serve --workers N`` (one per worker process); the node
directory and database come from the environment that ``kizuna serve`` sets:
``KIZUNA_NODE_DIR`` and, optionally, ``KIZUNA_DATABASE`` and ``KIZUNA_READ_ONLY``.

A serving process collects its garbage between requests rather than in the middle of them
(:class:`CollectBetweenRequests`).
"""

from __future__ import annotations

import gc
import os

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from kizuna import logs
from kizuna.errors import ConfigError
from kizuna.node import Node
from kizuna.taxii.app import create_app
from kizuna.taxii.protocol import Protocol, limits_of
from kizuna.web import mount

__all__ = ["BACKSTOP", "YOUNG", "CollectBetweenRequests", "app", "collect_if_due", "serving"]

#: Automatic collections only once this many more container objects have been made than freed
#: since the last collection: a backstop, for work outside requests (sync rounds) and for very
#: large requests.
BACKSTOP = 100_000
#: After a request, collect once this many more containers have been made than freed
#: (CPython's own threshold for its youngest generation).
YOUNG = 700


def app() -> ASGIApp:
    logs.configure_from_environment()
    directory = os.environ.get("KIZUNA_NODE_DIR")
    if not directory:
        raise ConfigError("KIZUNA_NODE_DIR is not set (kizuna serve sets it for its workers)")
    node = Node.open(
        directory,
        os.environ.get("KIZUNA_DATABASE") or None,
        read_only=os.environ.get("KIZUNA_READ_ONLY") == "1",
    )
    Protocol.limits, _ = limits_of(node.config)  # this worker's connections
    return serving(mount(create_app(node), node))


def serving(application: Starlette) -> ASGIApp:
    """*application*, made ready to serve for the life of this process.

    What the first request would otherwise wait for is read now: the policy snapshot and, on
    SQLite, the keys of the id index (``Node.warm``). What lives as long as the process (the
    node, its policy snapshot and caches, the modules) then leaves the garbage collector's
    generations, so that no collection walks it again (a part of a POST's time: docs/benchmarks.md, 'Figures behind the code's design');
    what is frozen is never collected. Collections then wait for the end of a request
    (:class:`CollectBetweenRequests`).
    """
    application.state.node.warm()
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(BACKSTOP, middle, old)
    return CollectBetweenRequests(application)


class CollectBetweenRequests:
    """ASGI middleware: the garbage collector's work, once a request has been answered.

    CPython collects its youngest generation whenever 700 more container objects have been
    made than freed. A POST of 100 objects makes thousands (decoded objects, rows, the status),
    so the collector ran several times inside every POST, each time walking what the request
    still held. Once the answer has been sent, what the request made is freed, so the walk is
    short, and it overlaps with the client reading the answer. Server CPU per object went down
    by 3 % (envelopes of 100) and 6 % (1,000), POST rates up by 3 % and 5 % (``bench/post_ab.py``,
    docs/benchmarks.md). The
    generations are kept as CPython keeps them: the middle one every ``threshold[1]``
    collections of the youngest, the oldest (what was not frozen) every ``threshold[2]`` of
    the middle one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                collect_if_due()


def collect_if_due() -> int | None:
    """Collect the generations that are due; the generation collected, or None."""
    young, middle, old = gc.get_count()
    if young < YOUNG:
        return None
    _, every_middle, every_old = gc.get_threshold()
    generation = 2 if old >= every_old else 1 if middle >= every_middle else 0
    gc.collect(generation)
    return generation
