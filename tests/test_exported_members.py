"""Each public module states what it exports in ``__all__``, and exports exactly that.

A module is public when no part of its dotted name starts with ``_``. A package exports
every public name bound in it (what it re-exports from its private modules is the point of
it; a class or function of another library it imports for its own use aside): its
``__all__`` is exactly those. A module exports the public names it defines
(functions, classes, constants; its logger is not one), and may re-export names of its
package's private modules: its ``__all__`` holds every name it defines and only names it has.
"""

from __future__ import annotations
import __future__

import ast
import importlib
import logging
import pkgutil
import types
from pathlib import Path

import pytest

import kizuna


def public_modules() -> list[str]:
    names = ["kizuna"]
    for info in pkgutil.walk_packages(kizuna.__path__, "kizuna."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _defined(path: Path) -> set[str]:
    """The public names a module's own top-level statements bind (imports aside)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def _ours(value: object) -> bool:
    """Whether *value* comes from Kizuna (a class or function of the standard library or of a
    dependency, imported for the package's own use, is not one of its exports)."""
    origin = getattr(value, "__module__", None)
    return not isinstance(origin, str) or origin.split(".")[0] == "kizuna"


def exports(module: types.ModuleType) -> set[str]:
    """What *module* exports: see the module docstring."""
    path = Path(module.__file__ or "")
    if path.name == "__init__.py":
        names = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and not isinstance(value, types.ModuleType | __future__._Feature)
            and _ours(value)
        }
        return names | _defined(path)
    return {
        name
        for name in _defined(path)
        if not isinstance(getattr(module, name, None), logging.Logger)
    }


MODULES = public_modules()


def test_the_walk_finds_the_packages() -> None:
    assert {"kizuna.node", "kizuna.store", "kizuna.taxii", "kizuna.errors"} <= set(MODULES)
    assert not any(part.startswith("_") for m in MODULES for part in m.split("."))


@pytest.mark.parametrize("name", MODULES)
def test_each_public_module_exports_exactly_what_it_declares(name: str) -> None:
    module = importlib.import_module(name)
    declared = getattr(module, "__all__", None)
    assert declared is not None, f"{name} declares no __all__"
    assert len(declared) == len(set(declared)), f"{name}: __all__ repeats a name"
    unbound = [n for n in declared if not hasattr(module, n)]
    assert not unbound, f"{name}: __all__ names what it does not have: {unbound}"
    found = exports(module)
    undeclared = sorted(found - set(declared))
    assert not undeclared, f"{name}: exports names its __all__ does not declare: {undeclared}"
    if Path(module.__file__ or "").name == "__init__.py":
        extra = sorted(set(declared) - found)
        assert not extra, f"{name}: declares names it does not export: {extra}"


def test_exports_see_definitions_and_a_packages_re_exports() -> None:
    import kizuna.node
    import kizuna.store.sql

    assert "Node" in exports(kizuna.node)  # re-exported from kizuna.node._node
    assert "SqlStore" in exports(kizuna.store.sql)
    assert "log" not in exports(kizuna.store.sql)  # a logger
    assert "Connection" not in exports(kizuna.store.sql)  # imported from SQLAlchemy
