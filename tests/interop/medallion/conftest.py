"""Runs the vendored medallion suite against Kizuna (base_test.py says how, and what differs).

``test_backends.py`` imports ``medallion.test`` (upstream, a module of endpoint constants
the installed package does not ship): ``endpoints.py`` is that module, vendored unchanged,
registered under its name. Upstream parametrizes each test over its memory and MongoDB
backends; the adapter serves Kizuna in the memory one's place, and the MongoDB ones are
deselected, as are the tests of medallion's own configuration (they read its Flask app).
"""

from __future__ import annotations

import sys

import medallion
import pytest

from tests.interop.medallion import endpoints
from tests.interop.medallion.base_test import BY_DESIGN, MEDALLION_ITSELF

sys.modules["medallion.test"] = endpoints
medallion.test = endpoints  # type: ignore[attr-defined]

#: The tests of medallion's configuration: they never reach a server.
_CONFIG = {name for name in MEDALLION_ITSELF if name.startswith("test_default_")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        if "interop/medallion/" not in item.nodeid:
            keep.append(item)
            continue
        name = item.originalname if isinstance(item, pytest.Function) else item.name
        if item.nodeid.endswith("[mongo]") or name in _CONFIG:
            drop.append(item)
            continue
        why = MEDALLION_ITSELF.get(name) or BY_DESIGN.get(name)
        if why:
            item.add_marker(pytest.mark.xfail(reason=why, strict=True))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
