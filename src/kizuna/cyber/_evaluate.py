"""A comparison expression (the inside of one ``[...]``) evaluated on one observation.

The result is the set of ids of the *root* objects that satisfy it: the observation's objects
of the path's type from which the path reaches a value that passes the comparison. ``AND``
intersects these sets and ``OR`` joins them, so comparisons joined by ``AND`` hold on one and
the same object, as STIX 2.1 requires (``stix2-matcher`` does the same).

Paths step into dictionaries by key and into lists by index (``[*]``: every element); a key
ending in ``_ref`` or ``_refs`` steps to the objects referred to, found among the
observation's own objects; a key ending in ``_hex`` or ``_bin`` gives bytes. A step that
cannot be taken drops the value; a root with no value left does not satisfy the comparison,
even under ``NOT`` (``NOT EXISTS`` excepted: it holds on roots where the path reaches
nothing).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from kizuna.cyber._compare import predicate
from kizuna.cyber.pattern import STAR, And, Comparison, ComparisonExpr, Or, Path

#: A compiled comparison expression: (the observation's objects by id, its objects by type)
#: -> the ids of the root objects that satisfy it.
Test = Callable[[Mapping[str, Any], Mapping[str, list[tuple[str, Any]]]], set[str]]


def _suffixed(key: str, value: Any) -> Any:
    """A ``_hex`` or ``_bin`` property as bytes; _DROP when it does not decode."""
    try:
        if key.endswith("_hex"):
            return binascii.a2b_hex(value)
        if key.endswith("_bin"):
            return base64.standard_b64decode(value)
    except (TypeError, ValueError):
        return _DROP
    return value


_DROP = object()


def walk(path: Path, root: Any, objects: Mapping[str, Any]) -> list[Any]:
    """The values *path* reaches from *root* (an object of its type)."""
    values = [root]
    for step in path.steps:
        out: list[Any] = []
        if isinstance(step, str):
            suffixed = step.endswith(("_hex", "_bin"))
            ref = step.endswith("_ref")
            refs = step.endswith("_refs")
            for value in values:
                if type(value) is not dict or step not in value:
                    continue
                found = value[step]
                if suffixed:
                    found = _suffixed(step, found)
                    if found is _DROP:
                        continue
                if ref:
                    if type(found) is str and found in objects:
                        out.append(objects[found])
                elif refs:
                    if type(found) is list:
                        targets = [objects[r] for r in found if type(r) is str and r in objects]
                        if targets:
                            out.append(targets)
                else:
                    out.append(found)
        elif step is STAR:
            for value in values:
                if type(value) is list:
                    out.extend(value)
        else:
            assert isinstance(step, int)
            for value in values:
                if type(value) is list and 0 <= step < len(value):
                    out.append(value[step])
        if not out:
            return out
        values = out
    return values


def compile_expr(expr: ComparisonExpr) -> Test:
    """*expr* as a function of an observation's objects (by id and by type)."""
    if isinstance(expr, Comparison):
        return _comparison(expr)
    parts = [compile_expr(item) for item in expr.items]
    if isinstance(expr, And):

        def all_of(objects: Mapping[str, Any], by_type: Mapping[str, list[Any]]) -> set[str]:
            result = parts[0](objects, by_type)
            for part in parts[1:]:
                if not result:
                    break
                result &= part(objects, by_type)
            return result

        return all_of
    assert isinstance(expr, Or)

    def any_of(objects: Mapping[str, Any], by_type: Mapping[str, list[Any]]) -> set[str]:
        result: set[str] = set()
        for part in parts:
            result |= part(objects, by_type)
        return result

    return any_of


def _comparison(comparison: Comparison) -> Test:
    path = comparison.path
    otype = path.object_type
    if comparison.op == "EXISTS":
        negated = comparison.negated

        def exists(objects: Mapping[str, Any], by_type: Mapping[str, list[Any]]) -> set[str]:
            return {
                oid
                for oid, obj in by_type.get(otype, ())
                if bool(walk(path, obj, objects)) != negated
            }

        return exists
    test = predicate(comparison)

    def compare(objects: Mapping[str, Any], by_type: Mapping[str, list[Any]]) -> set[str]:
        return {
            oid
            for oid, obj in by_type.get(otype, ())
            if any(test(value) for value in walk(path, obj, objects))
        }

    return compare


def comparisons(expr: ComparisonExpr) -> list[Comparison]:
    """Every comparison of *expr*, in the order written."""
    if isinstance(expr, Comparison):
        return [expr]
    return [c for item in expr.items for c in comparisons(item)]
