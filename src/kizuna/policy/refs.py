"""What an object refers to, and what a reader needs to know before releasing it.

Read from its JSON bytes where that is enough (a scan of the bytes is much cheaper than a walk
of the decoded object), else from its properties. The gate (``policy.gate``) decides who may
see what; these functions say which ids and markings an object involves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kizuna.policy.required import is_required, required_refs

__all__ = [
    "NOT_REFS",
    "Path",
    "identifiers_in",
    "is_identifier",
    "needs_redaction",
    "reference_places",
    "referenced_ids",
    "releases_unchanged",
    "required_slots",
    "strings_in",
    "visibility_refs",
]


def visibility_refs(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The markings that decide whether *obj* is visible at all (sorted, unique).

    Object-level markings, plus granular markings on a required property: if a principal may
    not see those, the object would lose a required property and is withheld, so the decision
    belongs in the coarse (SQL) filter.
    """
    marks = obj.get("object_marking_refs")
    granular = obj.get("granular_markings")
    if not granular and isinstance(marks, list) and len(marks) < 2:
        # Nearly every object: one object marking or none (as strings, validation saw to it).
        if not marks:
            return ()
        return (marks[0],) if isinstance(marks[0], str) else ()
    refs = set(_str_list(marks))
    otype = str(obj.get("type", ""))
    for entry in granular or ():
        if not isinstance(entry, dict) or not isinstance(entry.get("marking_ref"), str):
            continue
        for selector in entry.get("selectors") or ():
            if isinstance(selector, str) and is_required(otype, selector.split(".", 1)[0]):
                refs.add(entry["marking_ref"])
    return tuple(sorted(refs))


def needs_redaction(obj: Mapping[str, Any], body: bytes | None = None) -> bool:
    """True when :meth:`Gate.release` may change *obj* for some principal.

    With the object's JSON *body*, most objects are answered from the bytes: no ``_ref`` in
    them but those of ``object_marking_refs``, and no identifier but the object's own and
    its markings' (each holds one ``--``), means no references (a \\u escape could spell a
    key, so any escape takes the full test). A top-level property holding a reference
    answers without walking nested properties.
    """
    if body is not None and _plain(body):
        refs = body.count(b"_ref")
        marks = obj.get("object_marking_refs")
        if (refs == 0 or refs == body.count(b"object_marking_refs")) and body.count(
            b"--"
        ) <= 1 + (len(marks) if isinstance(marks, list) else 0):
            return False  # every "_ref" is an object_marking_refs, every id its own or theirs
    if obj.get("granular_markings"):
        return True
    for key, value in obj.items():
        if key in NOT_REFS:
            continue
        if key.endswith("_ref") and isinstance(value, str):
            return True
        if (
            key.endswith("_refs")
            and isinstance(value, list)
            and any(isinstance(v, str) for v in value)
        ):
            return True
    return bool(referenced_ids(obj))


def identifiers_in(body: bytes) -> set[str]:
    """Every STIX identifier written as a JSON string in *body*: a superset of its references.

    An identifier behind a \\u escape is missed; :func:`releases_unchanged` refuses such
    bodies, so the gate then parses the object and asks for it.
    """
    return {m.decode() for m in _ID.findall(body)}


def releases_unchanged(body: bytes, any_hidden: bool) -> bool:
    """True when :meth:`Gate.release` would return the object of *body* as it is.

    For an object that passed the coarse gate (its object markings are visible): without
    granular markings, without escapes, and with none of :func:`identifiers_in` hidden from
    the principal (*any_hidden* False), nothing is removed or withheld, so it can go out as
    stored without being parsed.
    """
    return _plain(body) and not any_hidden


def _plain(body: bytes) -> bool:
    """No granular markings, and no escape that could spell a key or an identifier.

    Most bodies hold no backslash at all, which one ``memchr`` (``find`` of one byte) tells
    faster than a search for the two bytes of the escape: 0.45 against 0.91 us for the whole
    test of a synthetic body (``bench/post_cost.py``).
    """
    return b"granular_markings" not in body and (body.find(b"\\") < 0 or b"\\u" not in body)


#: A STIX identifier as a JSON string: "type--UUID".
_ID = re.compile(
    rb'"([a-z0-9][a-z0-9-]*--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
    rb'[0-9a-fA-F]{12})"'
)
_ID_TEXT = re.compile(_ID.pattern[2:-2].decode())

#: A place in an object: keys of objects and indexes of lists, from the top.
Path = tuple[str | int, ...]


NOT_REFS = frozenset({"object_marking_refs", "marking_ref"})


def _str_list(value: object) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def referenced_ids(obj: Any) -> set[str]:
    """Every id *obj* refers to (the strings its :func:`reference_places` name; markings
    excluded)."""
    found: set[str] = set()
    for _, names in reference_places(obj):
        found |= names
    return found


def reference_places(obj: Any) -> list[tuple[Path, set[str]]]:
    """The places of *obj* that refer to other objects, each with the strings it names:
    removing a place removes its reference (docs/policy.md, Rule 4).

    * A ``*_ref`` property, whatever its shape, names every string it holds at any depth; so
      does each entry of a ``*_refs`` list (a ``*_refs`` of another shape is one place).
    * Elsewhere, a string that is exactly an identifier is a reference by its structure: a
      dictionary entry whose key or value is one (``"x_scores": {"indicator--...": 5}``),
      a list entry that is one (``"labels": ["indicator--..."]``).
    * Not references: markings (``object_marking_refs``, ``granular_markings``,
      ``marking_ref``), the object's own ``id``, and the text of its other required
      properties (a ``name`` that spells an id), inside which only ``*_ref`` and ``*_refs``
      properties refer; and an identifier inside longer text (a ``description`` that
      mentions one), which is the writer's statement.

    >>> sorted(p for p, _ in reference_places({"type": "x-a", "id": "x-a--1",
    ...     "x_scores": {"indicator--00000000-0000-0000-0000-000000000001": 5},
    ...     "labels": ["ok", "indicator--00000000-0000-0000-0000-000000000002"]}))
    [('labels', 1), ('x_scores', 'indicator--00000000-0000-0000-0000-000000000001')]
    """
    out: list[tuple[Path, set[str]]] = []
    otype = str(obj.get("type", "")) if isinstance(obj, dict) else ""
    # (place, value, whether a bare identifier there is a reference)
    stack: list[tuple[Path, Any, bool]] = [((), obj, True)]
    while stack:
        path, node, bare = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in NOT_REFS or key == "granular_markings":
                    continue
                here = (*path, key)
                if key.endswith("_refs") and isinstance(value, list):
                    out.extend(
                        ((*here, i), names) for i, v in enumerate(value) if (names := strings_in(v))
                    )
                    continue
                if key.endswith(("_ref", "_refs")):
                    if names := strings_in(value):
                        out.append((here, names))
                    continue
                structural = bare and not (not path and is_required(otype, key))
                if structural and is_identifier(key):
                    out.append((here, {key}))
                if isinstance(value, str):
                    if structural and is_identifier(value):
                        out.append((here, {value}))
                elif isinstance(value, dict | list):
                    stack.append((here, value, structural))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, str):
                    if bare and is_identifier(v):
                        out.append(((*path, i), {v}))
                elif isinstance(v, dict | list):
                    stack.append(((*path, i), v, bare))
    return out


def is_identifier(text: str) -> bool:
    """Is *text* exactly a STIX identifier (``type--UUID``)?

    >>> is_identifier("indicator--00000000-0000-0000-0000-000000000001"), is_identifier("a--b")
    (True, False)
    """
    return "--" in text and _ID_TEXT.fullmatch(text) is not None


def strings_in(value: Any) -> set[str]:
    """Every string in *value*, at any depth (keys of objects too), without recursion."""
    found: set[str] = set()
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, dict):
            found.update(k for k in node if isinstance(k, str))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def required_slots(obj: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The ids each required reference of *obj* names: one tuple per required property.

    The object is withheld from a principal when every id of one slot is hidden from it (a
    relationship whose ``target_ref`` is hidden; a note all of whose ``object_refs`` are):
    the property would go, and the object cannot lose it.

    >>> required_slots({"type": "note", "object_refs": ["a--1", "b--2"], "content": "x"})
    [('a--1', 'b--2')]
    """
    out: list[tuple[str, ...]] = []
    for prop in required_refs(str(obj.get("type", ""))):
        value = obj.get(prop)
        if isinstance(value, str):
            out.append((value,))
        elif isinstance(value, list):
            ids = tuple(v for v in value if isinstance(v, str))
            if ids and len(ids) == len(value):
                out.append(ids)
    return out
