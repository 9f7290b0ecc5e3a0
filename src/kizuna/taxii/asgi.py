"""An ASGI application factory for ``kizuna serve --workers N`` (one per worker process).

The node directory and database come from the environment that ``kizuna serve`` sets:
``KIZUNA_NODE_DIR`` and, optionally, ``KIZUNA_DATABASE``.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from kizuna.errors import ConfigError
from kizuna.node import Node
from kizuna.taxii.app import create_app


def app() -> Starlette:
    directory = os.environ.get("KIZUNA_NODE_DIR")
    if not directory:
        raise ConfigError("KIZUNA_NODE_DIR is not set (kizuna serve sets it for its workers)")
    return create_app(Node.open(directory, os.environ.get("KIZUNA_DATABASE") or None))
