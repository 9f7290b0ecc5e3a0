"""Every example in the package's docstrings runs: docs that cannot drift.

Every module of ``kizuna`` is found by walking the package, so a new module's examples run
without anyone listing it here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import kizuna
from kizuna.space.formats import omm

#: Private modules whose examples go on from their public module's (they use its names).
_GLOBALS_OF = {"kizuna.space.formats.omm._kvn": omm, "kizuna.space.formats.omm._json_csv": omm}

_MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(kizuna.__path__, "kizuna.")
    if not m.name.endswith("__main__")  # importing it runs the command
)


def test_the_walk_finds_the_modules() -> None:
    assert {"kizuna.space.formats.tle", "kizuna.stix.timestamps", "kizuna.taxii.media"} <= set(_MODULES)


@pytest.mark.parametrize("name", _MODULES)
def test_examples_in_docstrings_run(name: str) -> None:
    module = importlib.import_module(name)
    extra = vars(_GLOBALS_OF[name]) if name in _GLOBALS_OF else None
    result = doctest.testmod(module, extraglobs=extra)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
