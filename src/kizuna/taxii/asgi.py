"""The application of a ``kizuna serve`` process.

:func:`app` is the factory of ``kizuna serve --workers N`` (one per worker process); the node
directory and database come from the environment that ``kizuna serve`` sets:
``KIZUNA_NODE_DIR`` and, optionally, ``KIZUNA_DATABASE``.
"""

from __future__ import annotations

import gc
import os

from starlette.applications import Starlette

from kizuna import logs
from kizuna.errors import ConfigError
from kizuna.node import Node
from kizuna.taxii.app import create_app


def app() -> Starlette:
    logs.configure_from_environment()
    directory = os.environ.get("KIZUNA_NODE_DIR")
    if not directory:
        raise ConfigError("KIZUNA_NODE_DIR is not set (kizuna serve sets it for its workers)")
    return serving(create_app(Node.open(directory, os.environ.get("KIZUNA_DATABASE") or None)))


def serving(application: Starlette) -> Starlette:
    """*application*, made ready to serve for the life of this process.

    What lives as long as the process (the node, its policy snapshot and caches, the modules)
    leaves the garbage collector's generations, so that the collections set off by a POST's
    thousands of short-lived dicts do not walk it again every time (5-10 % of a POST's time,
    measured with ``bench/taxii.py``). Only for a serving process: what is frozen is never
    collected.
    """
    gc.collect()
    gc.freeze()
    return application
