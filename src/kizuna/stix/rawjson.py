"""Questions about an object's JSON bytes that its parsed form cannot answer.

A node stores the bytes it received and decides on the parsed object, so the two must never
differ. They would for an object that repeats a key: a JSON decoder keeps one of the values
(msgspec the last), another reader may keep another. And a value nested hundreds of levels
deep is refused before any recursive reader sees it (:mod:`kizuna.stix.limits`).

Both checks run on every object that enters, so both are cheap in the usual case: the
nesting check counts brackets (an object with fewer brackets than the limit cannot nest
deeper), and the key check compares the ``:`` in the bytes with those in the decoded object
written again (each key has one); only an object that fails is read again, slowly, to say
which key it repeats.

>>> raw = b'{"type": "note", "content": "a:b", "content": "c"}'
>>> import msgspec
>>> repeated_key(raw, msgspec.json.decode(raw))
'content'
>>> repeated_key(b'{"a": {"b": 1}, "c": ":"}', {"a": {"b": 1}, "c": ":"}) is None
True
>>> nesting_depth(b'[[{"a": "[[["}]]]')
3
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from kizuna.stix.limits import MAX_OBJECT_DEPTH, DepthScan, json_depth

__all__ = ["nesting_depth", "object_id", "repeated_key", "too_deep"]


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in the JSON *raw* (no recursion: ``limits.json_depth``)."""
    return json_depth(raw)


def too_deep(raw: bytes, limit: int = MAX_OBJECT_DEPTH) -> bool:
    """True when *raw* nests arrays and objects deeper than *limit* (see limits.py)."""
    if raw.count(b"{") + raw.count(b"[") <= limit:
        return False  # fewer brackets than the limit cannot nest deeper than it
    return nesting_depth(raw) > limit


def repeated_key(raw: bytes, obj: Any) -> str | None:
    """The first key *raw* repeats within one of its JSON objects (*obj* is its decoded
    value); None when every object's keys are distinct.

    Outside strings, ``:`` appears in JSON only after a key; msgspec writes *obj* again with
    every ``:`` inside a string as itself, so *raw* has more ``:`` than that encoding exactly
    when it holds keys the decoder dropped, unless *raw* spells a ``:`` as ``\\u003a``
    (then it is read the slow way).
    """
    extra = raw.count(b":") - msgspec.json.encode(obj).count(b":")
    if extra == 0 and b"\\u003" not in raw:
        return None
    return _find_repeated(raw)


def _find_repeated(raw: bytes) -> str | None:
    """The slow reading: every object's pairs, in order, with the path to it."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen and not found:
                found.append(key)
            seen[key] = value
        return seen

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):  # pragma: no cover - the bytes decoded already
        return "?"
    return found[0] if found else None


_ID = re.compile(rb'"id"\s*:\s*"([^"\\]{1,200})"')


def object_id(raw: bytes) -> str | None:
    """The ``id`` of the JSON object *raw*, read without decoding what it nests (for the
    answer to an object refused for its nesting, which no decoder may read whole): the first
    ``"id"`` key directly inside the outermost object, None if none is found among the
    first few.

    >>> object_id(b'{"x": [{"id": "inner"}], "id": "indicator--1", "y": [[[[]]]]}')
    'indicator--1'
    """
    for n, m in enumerate(_ID.finditer(raw)):
        if n == 8:
            break
        scan = DepthScan()
        scan.feed(raw[: m.start()])
        if scan.depth == 1:
            return m.group(1).decode("utf-8", "replace")
    return None
