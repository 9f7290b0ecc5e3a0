"""Hash keys of equality comparisons: how the matcher finds candidates without scanning.

A key is ``(object type, path steps, tag, value)`` with the tag telling strings (``s``),
numbers (``n``, integers and floats alike, as they compare) and booleans (``b``) apart. A
value an observation carries at a path has the key its kind gives it; a comparison
``path = literal`` holds on it exactly when the keys are equal, so a pattern made of such
comparisons joined by OR (and ``IN`` lists of strings) is *exact*: a key that hits is a match.
Other patterns get *necessary* keys where they have them (a match carries one of them) and are
evaluated on the observations that do; the rest are evaluated on every observation with an
object of a type they name.
"""

from __future__ import annotations

from typing import Any

from kizuna.cyber.pattern import And, Comparison, ComparisonExpr, Literal, Or, Path, Step

Key = tuple[str, tuple[Step, ...], str, Any]


def tag(value: object) -> str | None:
    """The tag of a value as it is found in data (None: no key)."""
    kind = type(value)
    if kind is str:
        return "s"
    if kind is int or kind is float:
        return "n"
    if kind is bool:
        return "b"
    return None


def _literal_tag(value: Literal) -> str | None:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int | float):
        return "n"
    if isinstance(value, str):
        return "s"
    return None  # bytes and timestamps: never a key


def keyable_path(path: Path) -> bool:
    """Values at the path are the data's own (no ``_hex``/``_bin`` step turns them to bytes)."""
    return not any(isinstance(s, str) and s.endswith(("_hex", "_bin")) for s in path.steps)


def _comparison_keys(c: Comparison, *, exact: bool) -> list[Key] | None:
    if c.negated or not keyable_path(c.path):
        return None
    base = (c.path.object_type, c.path.steps)
    if c.op == "=":
        assert c.value is not None and not isinstance(c.value, tuple)
        t = _literal_tag(c.value)
        return None if t is None else [(*base, t, c.value)]
    if c.op == "IN":
        assert isinstance(c.value, tuple)
        if not all(type(v) is str for v in c.value):
            # IN is Python's membership (1 IN (true) holds): numbers and booleans are not
            # exact keys; as necessary keys, each member under both of their tags.
            if exact or not all(_literal_tag(v) in ("n", "b") for v in c.value):
                return None
            return [(*base, t, v) for v in c.value for t in ("n", "b")]
        return [(*base, "s", v) for v in c.value]
    return None


def exact_keys(expr: ComparisonExpr) -> list[Key] | None:
    """Keys that decide *expr* alone, or None when its keys do not."""
    if isinstance(expr, Comparison):
        return _comparison_keys(expr, exact=True)
    if isinstance(expr, Or):
        out: list[Key] = []
        for item in expr.items:
            keys = exact_keys(item)
            if keys is None:
                return None
            out += keys
        return out
    return None


def necessary_keys(expr: ComparisonExpr) -> list[Key] | None:
    """Keys one of which any observation satisfying *expr* carries, or None."""
    if isinstance(expr, Comparison):
        return _comparison_keys(expr, exact=False)
    found = [necessary_keys(item) for item in expr.items]
    if isinstance(expr, And):
        usable = [k for k in found if k is not None]
        return min(usable, key=len) if usable else None
    assert isinstance(expr, Or)
    if any(k is None for k in found):
        return None
    return [key for keys in found if keys is not None for key in keys]


def types_of(expr: ComparisonExpr) -> set[str]:
    if isinstance(expr, Comparison):
        return {expr.path.object_type}
    return set().union(*(types_of(item) for item in expr.items))
