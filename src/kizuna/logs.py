"""How a kizuna process logs: one line format, to stderr, and the request log on its own switch.

``kizuna serve --workers N`` starts its API processes afresh, so its settings reach them through
the environment (:func:`export` in ``serve``, :func:`configure_from_environment` in each worker).
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["FORMAT", "configure", "configure_from_environment", "enable_access_log", "export"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_VERBOSE = "KIZUNA_LOG_VERBOSE"
_ACCESS = "KIZUNA_ACCESS_LOG"


def configure(verbose: bool) -> None:
    """Log to stderr: warnings and errors, and with *verbose* what happens (INFO)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format=FORMAT, stream=sys.stderr
    )


def enable_access_log(on: bool = True) -> None:
    """Write the request log (``kizuna.access``, one line per request) or not, whatever the
    level of the other loggers (``kizuna -v serve --no-access-log`` writes none)."""
    logging.getLogger("kizuna.access").setLevel(logging.INFO if on else logging.WARNING)


def export() -> None:
    """Hand this process's settings to the worker processes it is about to start."""
    os.environ[_VERBOSE] = "1" if logging.getLogger().isEnabledFor(logging.INFO) else "0"
    os.environ[_ACCESS] = "1" if logging.getLogger("kizuna.access").level == logging.INFO else "0"


def configure_from_environment() -> None:
    """In a worker process: the settings :func:`export` left."""
    configure(os.environ.get(_VERBOSE) == "1")
    enable_access_log(os.environ.get(_ACCESS) == "1")
